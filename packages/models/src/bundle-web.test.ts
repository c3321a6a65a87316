import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Alphabet, decodeGreyPng, mnistLines, writeLinePng } from '@scriptorium/data';
import { initBackend } from '@scriptorium/runtime';
import { beforeAll, describe, expect, it } from 'vitest';
import { BundleError, saveBundle } from './bundle.js';
import { loadBundleFromFiles, loadBundleFromUrl } from './bundle-web.js';
import { buildModel } from './htr-model.js';
import { LineRecognizer } from './line-recognizer.js';
import { Recognizer } from './recognizer.js';

const alphabet = Alphabet.fromTexts(['0123456789']);
const tmp = mkdtempSync(path.join(tmpdir(), 'models-web-'));
const dir = path.join(tmp, 'bundle');
const NAMES = ['bundle.json', 'model.json', 'weights.bin', 'alphabet.json'];

/** A fetch over `dir`'s files for URLs under http://bundles.test/b/ (404 elsewhere), as a static server would answer. */
const fakeFetch = (async (url: string | URL) => {
  const name = String(url).replace('http://bundles.test/b/', '');
  if (!NAMES.includes(name)) return new Response('not found', { status: 404, statusText: 'Not Found' });
  return new Response(readFileSync(path.join(dir, name)));
}) as typeof fetch;

beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: null });
  await saveBundle(dir, {
    model: buildModel('pham2014', { alphabetSize: alphabet.size, seed: 4, units: [2, 4, 8] }),
    alphabet,
    training: { steps: 0 },
  });
});

describe('loading a bundle the browser way (URLs, Files) and LineRecognizer', () => {
  it('from a URL and from Files, a line reads exactly as Recognizer.load(dir) reads its PNG', async () => {
    const png = path.join(tmp, 'line.png');
    await writeLinePng(mnistLines({ split: 'test', count: 1, seed: 3 }).compose(0).image, png);
    const expected = (await (await Recognizer.load(dir)).recognize([png]))[0]!;
    const image = decodeGreyPng(readFileSync(png))!;
    const files = NAMES.map((n) => new File([readFileSync(path.join(dir, n))], n));
    for (const bundle of [
      await loadBundleFromUrl('http://bundles.test/b', fakeFetch),
      await loadBundleFromFiles(files),
    ]) {
      const [got] = await LineRecognizer.fromBundle(bundle).recognizeImages([image]);
      expect(got).toEqual(expected);
    }
  });

  it('refuses a missing file by its URL, missing Files by name, and a corrupt weights.bin by its SHA-256', async () => {
    await expect(loadBundleFromUrl('http://bundles.test/nowhere/', fakeFetch)).rejects.toThrow(
      'http://bundles.test/nowhere/bundle.json: HTTP 404 Not Found; is this a Scriptorium model bundle?',
    );
    await expect(loadBundleFromFiles([new File(['{}'], 'bundle.json')])).rejects.toThrow(
      /^the chosen files lack model\.json, weights\.bin, alphabet\.json/,
    );
    const files = NAMES.map((n) => {
      const bytes = readFileSync(path.join(dir, n));
      if (n === 'weights.bin') bytes[10] ^= 1;
      return new File([bytes], n);
    });
    const err = await loadBundleFromFiles(files).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BundleError);
    expect((err as Error).message).toMatch(/^weights\.bin: SHA-256 mismatch/);
  });
});
