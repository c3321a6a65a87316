/**
 * End to end, in Debian's headless Chromium: `scriptorium serve` serves the built page and a bundle; the page reads
 * an uploaded grey PNG line exactly as Node's Recognizer does, reads a line drawn with pointer events exactly as
 * Node reads the same pixels, and the HTTP API answers the same. Times are logged (docs/benchmarks/web.md), not asserted.
 *
 * The bundle: SCRIPTORIUM_WEB_BUNDLE (e.g. runs/demo/best, for the benchmark numbers) or a small randomly
 * initialised pham2014 saved here (identity checks need no trained model). Where no Chromium is installed the
 * tests are skipped with one line saying how to install it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Alphabet } from '@scriptorium/data';
import { buildModel, Recognizer, saveBundle, type Recognition } from '@scriptorium/models';
import { initBackend } from '@scriptorium/runtime';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PageState } from './main.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const WEB = path.resolve(import.meta.dirname, '..');
const FIXTURE = path.join(WEB, 'fixtures/line.png');
/** The same line on tinted paper as a colour JPEG (made from line.png with sharp): decoded by the browser's own decoder. */
const COLOUR_FIXTURE = path.join(WEB, 'fixtures/line-colour.jpg');
const ARTIFACTS = path.join(WEB, 'test-artifacts');

/** The Chromium to drive: SCRIPTORIUM_CHROMIUM, else Debian's or another usual path; undefined when none is installed. */
function findChromium(): string | undefined {
  const candidates = [
    process.env.SCRIPTORIUM_CHROMIUM,
    '/usr/bin/chromium',
    '/usr/bin/chromium-browser',
    '/usr/bin/google-chrome',
  ];
  return candidates.find((c): c is string => !!c && existsSync(c));
}

const executablePath = findChromium();
if (!executablePath) {
  console.warn(
    'web e2e: skipped, no Chromium found; install it with `apt-get install -y chromium` (or set SCRIPTORIUM_CHROMIUM=/path/to/chrome)',
  );
}

let server: ChildProcess | undefined;
let url = '';
let bundle = '';
let browser: Browser;
let page: Page;
let reference: Recognizer;
const times: string[] = [];
/** Every request the page makes once it is ready: none is expected (reading happens in the tab). */
const requestsAfterReady: string[] = [];

/** Starts `scriptorium serve` from source on a free port; resolves with its URL. */
function startServe(model: string): Promise<string> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--conditions=@scriptorium/source',
      'apps/trainer/src/main.ts',
      'serve',
      '--model',
      model,
      '--port',
      '0',
      '--backend',
      'wasm',
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  server = child;
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /(http:\/\/\S+\/)/.exec(out);
      if (m) resolve(m[1]!);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => reject(new Error(`scriptorium serve exited with ${code} before listening:\n${out}`)));
  });
}

const pageState = () =>
  page.evaluate(() => {
    const s = (window as unknown as { scriptorium: PageState }).scriptorium;
    return {
      recognitions: s.recognitions,
      last: s.last,
      readyAt: s.readyAt,
      firstRecognitionAt: s.firstRecognitionAt,
      backend: s.backend,
      error: s.error,
    };
  });

/** Waits until the page has shown `n` recognitions; its last one. */
async function recognitionNumber(n: number) {
  await page.waitForFunction(
    (k) => (window as unknown as { scriptorium: PageState }).scriptorium.recognitions >= k,
    n,
    { timeout: 30_000 },
  );
  return (await pageState()).last!;
}

/**
 * Recognitions equal: text and spans exactly, confidences to 6 decimals (with the trained demo bundle they differ in
 * the last float bits between Node's and Chromium's wasm runs; exactly equal with the small random bundle).
 */
function expectSame(got: Recognition, want: Recognition): void {
  expect(got.text).toBe(want.text);
  expect(got.spans).toEqual(want.spans);
  expect(got.pixelSpans).toEqual(want.pixelSpans);
  expect(got.confidence).toBeCloseTo(want.confidence, 6);
  got.charConfidences.forEach((c, k) => expect(c).toBeCloseTo(want.charConfidences[k]!, 6));
}

describe.skipIf(!executablePath)('the recogniser page in headless Chromium', () => {
  beforeAll(async () => {
    if (!existsSync(path.join(WEB, 'dist/index.html')))
      throw new Error(
        'apps/web/dist is not built: run `npm run build -w apps/web` (npm test in apps/web builds it first)',
      );
    await initBackend({ backend: 'wasm', log: null });
    bundle = process.env.SCRIPTORIUM_WEB_BUNDLE
      ? path.resolve(ROOT, process.env.SCRIPTORIUM_WEB_BUNDLE)
      : path.join(mkdtempSync(path.join(tmpdir(), 'web-e2e-')), 'bundle');
    if (!process.env.SCRIPTORIUM_WEB_BUNDLE) {
      const alphabet = Alphabet.fromTexts(['0123456789']);
      await saveBundle(bundle, {
        model: buildModel('pham2014', { alphabetSize: alphabet.size, seed: 7, units: [2, 4, 8] }),
        alphabet,
        training: { steps: 0 },
      });
    }
    reference = await Recognizer.load(bundle);
    url = await startServe(bundle);
    browser = await chromium.launch({ executablePath, args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
    page = await browser.newPage({ viewport: { width: 900, height: 900 } });
    page.on('pageerror', (err) => console.error(`page error: ${err.message}`));
  });

  afterAll(async () => {
    await browser?.close();
    server?.kill('SIGTERM');
  });

  it('loads the bundle, reads the uploaded PNG line exactly as Node does, and the API answers the same', async () => {
    const t0 = Date.now();
    await page.goto(url);
    await page.evaluate(() => (window as unknown as { scriptorium: PageState }).scriptorium.ready);
    const readyMs = Date.now() - t0;
    page.on('request', (r) => requestsAfterReady.push(r.url()));
    await page.setInputFiles('#image', FIXTURE);
    const upload = await recognitionNumber(1);
    const firstMs = Date.now() - t0;
    const state = await pageState();
    expect(state.error).toBeUndefined();
    expect(state.backend).toMatch(/^wasm \(SIMD\), MDLSTM SIMD kernel$/); // Chromium has WebAssembly SIMD
    expect(upload.source).toBe('upload');
    const node = await reference.recognize(readFileSync(FIXTURE));
    expectSame(upload.recognition, node);

    const api = await fetch(new URL('recognize', url), {
      method: 'POST',
      body: readFileSync(FIXTURE),
      headers: { 'content-type': 'image/png' },
    });
    const answer = (await api.json()) as { text: string; spans: Array<[number, number]> };
    expect(answer.text).toBe(node.text);
    expect(answer.spans).toEqual(node.pixelSpans);
    expect(requestsAfterReady).toEqual([]); // reading happens in the tab
    times.push(
      `page load to ready (backend ${state.backend}, bundle, warm-up) ${readyMs} ms; to first recognition ${firstMs} ms`,
      `uploaded line (normalised to ${upload.width}x${upload.height}) read in the page in ${upload.ms.toFixed(1)} ms: '${upload.recognition.text}'`,
    );
  });

  it("reads a colour JPEG through the browser's decoder as Node reads it through sharp (text)", async () => {
    const before = (await pageState()).recognitions;
    await page.setInputFiles('#image', COLOUR_FIXTURE);
    const got = await recognitionNumber(before + 1);
    expect(got.source).toBe('upload');
    // Not the same pixels: Chromium's JPEG decoder and the mean of R, G, B against libjpeg-turbo in sharp and its
    // luminance; the text is what should agree.
    expect(got.recognition.text).toBe((await reference.recognize(readFileSync(COLOUR_FIXTURE))).text);
    times.push(
      `colour JPEG (normalised to ${got.width}x${got.height}) read in the page in ${got.ms.toFixed(1)} ms: '${got.recognition.text}'`,
    );
  });

  it('loads a bundle the user picks (its four files) and reads with it as Node does', async () => {
    const before = (await pageState()).recognitions;
    await page.setInputFiles(
      '#bundle',
      ['bundle.json', 'model.json', 'weights.bin', 'alphabet.json'].map((f) => path.join(bundle, f)),
    );
    await page.waitForFunction(() => document.getElementById('model')!.textContent!.endsWith('(chosen files)'));
    await page.setInputFiles('#image', []);
    await page.setInputFiles('#image', FIXTURE);
    const got = await recognitionNumber(before + 1);
    expectSame(got.recognition, await reference.recognize(readFileSync(FIXTURE)));
  });

  it('reads a line drawn with pointer events, live, exactly as Node reads the same pixels', async () => {
    const before = (await pageState()).recognitions;
    const box = (await page.locator('#pad').boundingBox())!;
    // Two strokes, a '1' and a '7', in pad coordinates scaled to the displayed canvas.
    const at = (x: number, y: number) => [box.x + (x / 768) * box.width, box.y + (y / 128) * box.height] as const;
    const strokes = [
      [
        [100, 20],
        [100, 110],
      ],
      [
        [160, 20],
        [220, 20],
        [180, 110],
      ],
    ];
    for (const stroke of strokes) {
      await page.mouse.move(...at(stroke[0]![0]!, stroke[0]![1]!));
      await page.mouse.down();
      for (const [x, y] of stroke.slice(1)) await page.mouse.move(...at(x!, y!), { steps: 8 });
      await page.mouse.up();
    }
    // Live: debounced after the last movement, without any button.
    const drawn = await recognitionNumber(before + 1);
    expect(drawn.source).toBe('pad');
    expect(drawn.recognition.spans.length).toBe([...drawn.recognition.text].length);
    const pixels = await page.evaluate(() => {
      const c = document.getElementById('pad') as HTMLCanvasElement;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height);
      return { data: Array.from(d.data), width: d.width, height: d.height };
    });
    const node = await reference.recognize({
      data: Uint8Array.from(pixels.data),
      width: pixels.width,
      height: pixels.height,
      channels: 4,
    });
    // The last recognition may be of a slightly earlier state of the pad if drawing went on: wait for quiet, then compare.
    const settled = (await pageState()).last!;
    expectSame(settled.recognition, node);
    times.push(
      `drawn line (768x128 canvas, normalised to ${settled.width}x${settled.height}) read in the page in ${settled.ms.toFixed(1)} ms: '${settled.recognition.text}'`,
    );

    expect(requestsAfterReady).toEqual([]); // uploads, a picked bundle and drawing included
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'web-e2e.png'), fullPage: true });
    console.log(
      `web e2e (bundle ${path.relative(ROOT, bundle) || bundle}):\n  ${times.join('\n  ')}\n  screenshot: ${path.relative(ROOT, path.join(ARTIFACTS, 'web-e2e.png'))}`,
    );
  });
});
