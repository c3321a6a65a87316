import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Alphabet, mnistLines, writeLinePng } from '@scriptorium/data';
import { buildModel, Recognizer, saveBundle } from '@scriptorium/models';
import { initBackend } from '@scriptorium/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../cli/errors.js';
import { HttpError, Slots, startServer, type RunningServer } from './serve.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'serve-'));
const bundle = path.join(tmp, 'bundle');
const web = path.join(tmp, 'web');
const png = path.join(tmp, 'line.png');
let server: RunningServer;

const post = (body: BodyInit, type: string | undefined, init: RequestInit = {}) =>
  fetch(new URL('recognize', server.url), {
    method: 'POST',
    body,
    headers: type ? { 'content-type': type } : {},
    ...init,
  });

beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: null });
  // A randomly initialised small pham2014: enough to check the server answers what Recognizer answers.
  const alphabet = Alphabet.fromTexts(['0123456789']);
  await saveBundle(bundle, {
    model: buildModel('pham2014', { alphabetSize: alphabet.size, seed: 3, units: [2, 4, 8] }),
    alphabet,
    training: { steps: 0 },
  });
  await writeLinePng(mnistLines({ split: 'test', count: 1, seed: 2 }).compose(0).image, png);
  mkdirSync(web);
  writeFileSync(path.join(web, 'index.html'), '<!doctype html><title>page</title>');
  server = await startServer({ model: bundle, port: 0, webDir: web, maxBytes: 64 * 1024, backend: 'wasm' });
});

afterAll(async () => {
  await server?.close();
});

describe('scriptorium serve', () => {
  it('POST /recognize answers what `recognize --json` gives for the same bundle and image', async () => {
    const expected = await (await Recognizer.load(bundle)).recognize(readFileSync(png));
    const res = await post(readFileSync(png), 'image/png');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      text: expected.text,
      confidence: expected.confidence,
      charConfidences: expected.charConfidences,
      spans: expected.pixelSpans,
    });
  });

  it('GET /health, the page at /, the bundle at /bundle/ (byte for byte), 404 outside them', async () => {
    const health = await (await fetch(new URL('health', server.url))).json();
    expect(health).toMatchObject({
      status: 'ok',
      backend: 'wasm',
      model: { arch: 'pham2014', height: 32, characters: 10, trainedSteps: 0 },
    });
    const page = await fetch(server.url);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toContain('<title>page</title>');
    const weights = await fetch(new URL('bundle/weights.bin', server.url));
    expect(Buffer.from(await weights.arrayBuffer()).equals(readFileSync(path.join(bundle, 'weights.bin')))).toBe(true);
    expect((await fetch(new URL('bundle/secret.txt', server.url))).status).toBe(404);
    expect((await fetch(new URL('nope.js', server.url))).status).toBe(404);
    // A path that climbs out of the page's directory is not found, not read; nor is a malformed escape.
    expect((await fetch(new URL('/%2e%2e/%2e%2e/etc/passwd', server.url))).status).toBe(404);
    expect((await fetch(new URL('/%E0%A4%A', server.url))).status).toBe(404);
  });

  it('bad requests get 4xx with a message, and the server keeps answering', async () => {
    const refusal = async (res: Response) => ({
      status: res.status,
      error: ((await res.json()) as { error: string }).error,
    });
    expect(await refusal(await post('hello', 'text/plain'))).toEqual({
      status: 415,
      error:
        "wrong content type 'text/plain': send the image bytes as the body with Content-Type image/png, image/jpeg, image/webp, image/tiff, application/octet-stream",
    });
    expect(await refusal(await post('hello', undefined))).toMatchObject({ status: 415 });
    const notImage = await refusal(await post(Buffer.from('definitely not a PNG'), 'image/png'));
    expect(notImage.status).toBe(400);
    expect(notImage.error).toMatch(/^not an image the server can read \(cannot decode image/);
    expect(await refusal(await post(Buffer.alloc(0), 'image/png'))).toEqual({
      status: 400,
      error: 'empty body: send the image bytes as the body',
    });
    expect(await refusal(await post(Buffer.alloc(64 * 1024 + 1), 'image/png'))).toEqual({
      status: 413,
      error: "image too large: more than 65536 bytes (the server's --max-bytes)",
    });
    expect(await refusal(await fetch(new URL('recognize', server.url)))).toEqual({
      status: 405,
      error: 'POST an image to /recognize',
    });
    expect((await post(readFileSync(png), 'image/png')).status).toBe(200);
  });

  it('a port in use is one line saying so, not a stack trace', async () => {
    const port = Number(new URL(server.url).port);
    await expect(startServer({ model: bundle, port, webDir: web, backend: 'wasm' })).rejects.toThrow(
      new UsageError(
        `serve: cannot listen on 127.0.0.1:${port} (EADDRINUSE); pick another --port (0: any free one) or --host`,
        false,
      ),
    );
  });

  it('bounds concurrency: beyond --concurrency and --queue, requests get 503 (Slots)', async () => {
    const slots = new Slots(1, 1);
    const gates: Array<() => void> = [];
    const task = () => slots.run(() => new Promise<string>((resolve) => gates.push(() => resolve('done'))));
    const first = task(); // runs
    const second = task(); // waits
    const third = task().catch((e: unknown) => e); // refused: one running, one waiting
    const refused = (await third) as HttpError;
    expect(refused).toBeInstanceOf(HttpError);
    expect(refused.status).toBe(503);
    expect(refused.message).toBe(
      "busy: 1 recognition(s) running and 1 waiting (the server's --concurrency and --queue); retry shortly",
    );
    expect([slots.running, slots.waiting.length, gates.length]).toEqual([1, 1, 1]);
    gates[0]!(); // the first ends; its slot passes to the second
    expect(await first).toBe('done');
    await new Promise((r) => setImmediate(r));
    expect([slots.running, slots.waiting.length, gates.length]).toEqual([1, 0, 2]);
    gates[1]!();
    expect(await second).toBe('done');
    expect(slots.running).toBe(0);
    // And through HTTP the answer is a 503 with Retry-After: a server with no queue and a slow request in flight.
    const busy = await startServer({ model: bundle, port: 0, webDir: web, concurrency: 1, queue: 0, backend: 'wasm' });
    try {
      const bytes = readFileSync(png);
      const all = await Promise.all(
        Array.from({ length: 4 }, () =>
          fetch(new URL('recognize', busy.url), {
            method: 'POST',
            body: bytes,
            headers: { 'content-type': 'image/png' },
          }),
        ),
      );
      for (const r of all) expect([200, 503]).toContain(r.status);
      const refusedHttp = all.find((r) => r.status === 503);
      if (refusedHttp) expect(refusedHttp.headers.get('retry-after')).toBe('1');
    } finally {
      await busy.close();
    }
  });
});
