/**
 * Bundle faults and what is promised (issue 18): loadBundle refuses each of these with a BundleError whose
 * message names the file and the field, never a raw tfjs error:
 * - a changed byte in model.json, weights.bin or alphabet.json (SHA-256 recorded in bundle.json);
 * and, in a bundle whose hashes were recomputed after the change (or a version 1 bundle, which has none):
 * - NaN or infinite weights; extra or missing bytes in weights.bin; a weight shape that does not fit the topology;
 * - inconsistent metadata: widthMultiple 0, usesMask or preprocess.height not those of the model, an alphabet
 *   whose size is not the number of output classes.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Alphabet } from '@scriptorium/data';
import { initBackend } from '@scriptorium/runtime';
import { beforeAll, describe, expect, it } from 'vitest';
import { BundleError, loadBundle, saveBundle } from './bundle.js';
import { sha256 } from './bundle-check.js';
import { buildModel } from './htr-model.js';

const alphabet = Alphabet.fromTexts(['0123456789']);
const tmp = mkdtempSync(path.join(tmpdir(), 'bundle-faults-'));
const good = path.join(tmp, 'good');
let copies = 0;

beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: null });
  await saveBundle(good, {
    model: buildModel('pham2014', { alphabetSize: alphabet.size, seed: 4, units: [2, 4, 8] }),
    alphabet,
  });
});

/** A copy of the good bundle, with `change` applied to it. */
function copy(change: (dir: string) => void): string {
  const dir = path.join(tmp, `copy-${copies++}`);
  cpSync(good, dir, { recursive: true });
  change(dir);
  return dir;
}

const readJson = (dir: string, name: string) => JSON.parse(readFileSync(path.join(dir, name), 'utf8'));

/** Records the files' current SHA-256s in bundle.json, as a bundle written that way would have them. */
function rehash(dir: string): void {
  const meta = readJson(dir, 'bundle.json');
  for (const f of ['model.json', 'weights.bin', 'alphabet.json'])
    meta.sha256[f] = sha256(readFileSync(path.join(dir, f)));
  writeFileSync(path.join(dir, 'bundle.json'), JSON.stringify(meta));
}

function editMeta(dir: string, edit: (meta: Record<string, unknown>) => void): void {
  const meta = readJson(dir, 'bundle.json');
  edit(meta);
  writeFileSync(path.join(dir, 'bundle.json'), JSON.stringify(meta));
}

function editWeights(dir: string, edit: (w: Float32Array) => Float32Array | Buffer): void {
  const bytes = readFileSync(path.join(dir, 'weights.bin'));
  const w = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const out = edit(w);
  writeFileSync(path.join(dir, 'weights.bin'), Buffer.isBuffer(out) ? out : Buffer.from(out.buffer));
}

async function refusal(dir: string): Promise<BundleError> {
  const err = await loadBundle(dir).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BundleError);
  return err as BundleError;
}

describe('bundle faults', () => {
  it('writes version 2 with the SHA-256 of each file, and loads it', async () => {
    const meta = readJson(good, 'bundle.json');
    expect(meta.version).toBe(2);
    expect(meta.sha256['weights.bin']).toBe(sha256(readFileSync(path.join(good, 'weights.bin'))));
    expect((await loadBundle(good)).meta.arch).toBe('pham2014');
  });

  it('a flipped exponent bit in weights.bin, or an edit of model.json or alphabet.json, fails the SHA-256 naming the file', async () => {
    const flipped = copy((d) =>
      editWeights(d, (w) => {
        const b = Buffer.from(w.buffer);
        b[3]! ^= 0x40; // the high exponent bit of weight 0: a small weight becomes huge
        return b;
      }),
    );
    expect((await refusal(flipped)).message).toMatch(
      new RegExp(
        `^${flipped}/weights\\.bin: SHA-256 mismatch \\(bundle\\.json sha256\\['weights\\.bin'\\] is [0-9a-f]{12}\\.\\.\\., the file hashes to [0-9a-f]{12}\\.\\.\\.\\): the file is corrupt or was changed$`,
      ),
    );
    const model = copy((d) =>
      writeFileSync(
        path.join(d, 'model.json'),
        readFileSync(path.join(d, 'model.json'), 'utf8').replace('"units":8', '"units":9'),
      ),
    );
    expect((await refusal(model)).message).toMatch(
      /model\.json: SHA-256 mismatch \(bundle\.json sha256\['model\.json'\]/,
    );
    const chars = copy((d) =>
      writeFileSync(
        path.join(d, 'alphabet.json'),
        readFileSync(path.join(d, 'alphabet.json'), 'utf8').replace('"1"', '"l"'),
      ),
    );
    expect((await refusal(chars)).message).toMatch(/alphabet\.json: SHA-256 mismatch/);
  });

  it('NaN or infinite weights are refused, naming the weight and index', async () => {
    const nan = copy((d) => {
      editWeights(d, (w) => ((w[5] = NaN), w));
      rehash(d);
    });
    expect((await refusal(nan)).message).toMatch(
      new RegExp(`^${nan}/weights\\.bin: weight '[^']+' has NaN at index 5, expected finite values$`),
    );
    const inf = copy((d) => {
      editWeights(d, (w) => ((w[w.length - 1] = -Infinity), w));
      rehash(d);
    });
    expect((await refusal(inf)).message).toMatch(
      /weights\.bin: weight 'output\/bias' has -Infinity at index 10, expected finite values$/,
    );
  });

  it('extra or missing bytes in weights.bin are refused', async () => {
    const size = readFileSync(path.join(good, 'weights.bin')).length;
    const extra = copy((d) => {
      writeFileSync(
        path.join(d, 'weights.bin'),
        Buffer.concat([readFileSync(path.join(d, 'weights.bin')), Buffer.alloc(8)]),
      );
      rehash(d);
    });
    expect((await refusal(extra)).message).toBe(
      `${extra}/weights.bin: ${size + 8} bytes, but model.json's weightsManifest describes ${size} (extra bytes)`,
    );
    const short = copy((d) => {
      writeFileSync(path.join(d, 'weights.bin'), readFileSync(path.join(d, 'weights.bin')).subarray(0, size - 4));
      rehash(d);
    });
    expect((await refusal(short)).message).toBe(
      `${short}/weights.bin: ${size - 4} bytes, but model.json's weightsManifest describes ${size} (missing bytes)`,
    );
  });

  it('a swapped weight shape (same byte count) is refused, naming the weight and both shapes', async () => {
    const dir = copy((d) => {
      const json = readJson(d, 'model.json');
      const spec = json.weightsManifest[0].weights.find((w: { name: string }) => w.name === 'conv1/kernel');
      expect(spec.shape).toEqual([64, 6]); // 4x2 windows of the first MDLSTM's 8 outputs (2 units x 4 directions), 6 features
      spec.shape = [6, 64];
      writeFileSync(path.join(d, 'model.json'), JSON.stringify(json));
      rehash(d);
    });
    expect((await refusal(dir)).message).toBe(
      `${dir}/model.json: weightsManifest gives 'conv1/kernel' shape [6, 64], the topology needs [64, 6]`,
    );
  });

  it('inconsistent metadata is refused naming bundle.json and the field', async () => {
    const cases: Array<[(m: Record<string, unknown>) => void, string]> = [
      [(m) => (m.widthMultiple = 0), 'widthMultiple is 0, expected a positive integer'],
      [(m) => (m.widthReduction = 2.5), 'widthReduction is 2.5, expected a positive integer'],
      [(m) => (m.widthMultiple = 12), 'widthMultiple is 12, expected a multiple of widthReduction (8)'],
      [(m) => (m.usesMask = 'yes'), 'usesMask is "yes", expected true or false'],
      [(m) => (m.usesMask = false), 'usesMask is false, but the model has 2 input(s) (image and mask)'],
      [
        (m) => ((m.preprocess as Record<string, unknown>).height = 48),
        'preprocess.height is 48, but the model takes lines 32 pixels high',
      ],
      [(m) => delete m.preprocess, 'preprocess is missing, expected an object'],
      [
        (m) => ((m.preprocess as Record<string, unknown>).background = 'grey'),
        `preprocess.background is "grey", expected 'paper' or 'zero'`,
      ],
      [
        (m) => ((m.sha256 as Record<string, unknown>)['weights.bin'] = 'abc'),
        `sha256['weights.bin'] is "abc", expected a SHA-256 in hex (64 characters)`,
      ],
      [(m) => (m.version = 99), 'bundle version 99 is not supported by this Scriptorium (this version reads 1 and 2)'],
    ];
    for (const [edit, message] of cases) {
      const dir = copy((d) => editMeta(d, edit));
      expect((await refusal(dir)).message).toBe(`${dir}/bundle.json: ${message}`);
    }
  });

  it('an alphabet whose size is not the number of output classes is refused', async () => {
    const dir = copy((d) => {
      writeFileSync(path.join(d, 'alphabet.json'), JSON.stringify(Alphabet.fromTexts(['0123456789ab']).toJSON()));
      rehash(d);
    });
    expect((await refusal(dir)).message).toBe(
      `${dir}: the model outputs 11 classes but alphabet.json has 13 (12 characters + blank)`,
    );
  });

  it("a bundle saved before the paper level (no preprocess.background) reads its lines as it was trained: 'zero'", async () => {
    expect((await loadBundle(copy(() => undefined))).meta.preprocess.background).toBe('paper');
    const old = copy((d) => editMeta(d, (m) => delete (m.preprocess as Record<string, unknown>).background));
    expect((await loadBundle(old)).meta.preprocess.background).toBe('zero');
  });

  it('a bundle saved before baseline straightening (no preprocess.straighten) reads its lines unstraightened', async () => {
    expect((await loadBundle(copy(() => undefined))).meta.preprocess.straighten).toBe(true);
    const old = copy((d) => editMeta(d, (m) => delete (m.preprocess as Record<string, unknown>).straighten));
    expect((await loadBundle(old)).meta.preprocess.straighten).toBe(false);
    const bad = copy((d) => editMeta(d, (m) => ((m.preprocess as Record<string, unknown>).straighten = 'yes')));
    await expect(loadBundle(bad)).rejects.toThrow('preprocess.straighten is "yes", expected true or false');
  });

  it('a version 1 bundle (no hashes) still loads, and gets every other check', async () => {
    const v1 = copy((d) => editMeta(d, (m) => ((m.version = 1), delete m.sha256)));
    expect((await loadBundle(v1)).meta.version).toBe(1);
    const nan = copy((d) => {
      editMeta(d, (m) => ((m.version = 1), delete m.sha256));
      editWeights(d, (w) => ((w[0] = NaN), w));
    });
    expect((await refusal(nan)).message).toMatch(/weights\.bin: weight '[^']+' has NaN at index 0/);
  });
});
