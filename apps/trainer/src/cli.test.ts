import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  generateCurveKeyPair,
  listCheckpoints,
  loadCheckpoint,
  latestCheckpoint,
  saveCheckpoint,
} from '@scriptorium/dataparallel';
import { mnistLines, openDataset, writeLinePng } from '@scriptorium/data';
import { Recognizer } from '@scriptorium/models';
import { describe, expect, it } from 'vitest';
import { cli, freePort, NODE_ARGS, MAIN, quiet, tiny } from './cli-test-util.js';
import { runTrain } from './commands/train.js';
import { evaluate } from './train/evaluate.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'trainer-'));

describe('scriptorium train', () => {
  it('a tiny in-process run writes a bundle, metrics, plots and checkpoints; eval and recognize use the bundle', async () => {
    const out = path.join(tmp, 'inproc');
    const s = await runTrain(tiny(out, ['--max-steps', '3']), quiet);
    expect(s.steps).toBe(3);
    for (const f of [
      'best/model.json',
      'best/weights.bin',
      'best/alphabet.json',
      'best/bundle.json',
      'last/bundle.json',
      'metrics.jsonl',
      'loss.png',
      'cer.png',
      'job.json',
    ]) {
      expect(existsSync(path.join(out, f)), f).toBe(true);
    }
    const metrics = readFileSync(path.join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(metrics.filter((m) => m.type === 'train').map((m) => m.step)).toEqual([1, 2, 3]);
    expect(metrics.some((m) => m.type === 'valid' && m.step === 3 && m.cer >= 0)).toBe(true);

    const ev = await cli([
      'eval',
      '--model',
      path.join(out, 'best'),
      '--lines',
      '4',
      '--jsonl',
      path.join(out, 'eval.jsonl'),
    ]);
    expect(ev.code).toBe(0);
    expect(ev.stdout).toMatch(/4 lines of mnist-lines:test: CER \d+\.\d\d%/);
    expect(readFileSync(path.join(out, 'eval.jsonl'), 'utf8').trim().split('\n')).toHaveLength(4);

    const line = mnistLines({ split: 'test', count: 1, seed: 3 }).compose(0);
    const png = path.join(out, 'line.png');
    await writeLinePng(line.image, png);
    const rec = await cli(['recognize', '--model', path.join(out, 'best'), '--json', png]);
    expect(rec.code).toBe(0);
    const json = JSON.parse(rec.stdout.trim());
    expect(json.file).toBe(png);
    expect(typeof json.text).toBe('string');
    expect(json.confidence).toBeGreaterThan(0);
    expect(json.charConfidences).toHaveLength([...json.text].length);
    expect(json.spans).toHaveLength([...json.text].length);
    for (const c of json.charConfidences) expect(c > 0 && c <= 1).toBe(true);
  });

  it('recognize: --max-image-pixels refuses a larger image; --page-xml writes TextEquivs into a copy of the file', async () => {
    const out = path.join(tmp, 'inproc'); // the bundle of the test above
    const line = mnistLines({ split: 'test', count: 1, seed: 3 }).compose(0);
    const png = path.join(out, 'line.png');
    const json = await (await Recognizer.load(path.join(out, 'best'))).recognize(png);
    // --max-image-pixels below the line's pixels: refused from its header, one line naming the cap.
    const capped = await cli(['recognize', '--model', path.join(out, 'best'), '--max-image-pixels', '100', png]);
    expect(capped.code).toBe(2);
    expect(capped.stderr.trim()).toMatch(
      new RegExp(`^scriptorium recognize: ${png}: image of \\d+x32 = [\\d,]+ pixels is over the cap of 100 `),
    );

    // --page-xml: the same line as the page image, one TextLine covering it: the same text as the PNG alone, written
    // into a copy of the file whose other bytes are unchanged.
    const w = line.image.width - 1;
    const xml =
      `<?xml version="1.0"?>\n<PcGts><Page imageFilename="line.png"><TextRegion id="r"><Coords points="0,0 ${w},0 ${w},31 0,31"/>\n` +
      `<TextLine id="t1"><Coords points="0,0 ${w},0 ${w},31 0,31"/></TextLine>\n</TextRegion></Page></PcGts>\n`;
    writeFileSync(path.join(out, 'page.xml'), xml);
    const paged = await cli([
      'recognize',
      '--model',
      path.join(out, 'best'),
      '--page-xml',
      path.join(out, 'page.xml'),
      '--out',
      path.join(out, 'page-out.xml'),
    ]);
    expect(paged.code, paged.stderr).toBe(0);
    const equiv = `<TextEquiv conf="${json.confidence.toFixed(4)}"><Unicode>${json.text}</Unicode></TextEquiv>`;
    expect(readFileSync(path.join(out, 'page-out.xml'), 'utf8')).toBe(
      xml.replace('"/></TextLine>', `"/>${equiv}</TextLine>`),
    );
    expect(paged.stdout).toBe(`t1\t${json.text}\t${json.confidence.toFixed(3)}\n`);
    const same = await cli([
      'recognize',
      '--model',
      path.join(out, 'best'),
      '--page-xml',
      path.join(out, 'page.xml'),
      '--out',
      path.join(out, 'page.xml'),
    ]);
    expect([same.code, same.stderr.split('\n')[0]]).toEqual([
      2,
      `scriptorium recognize: recognize --page-xml: --out ${path.join(out, 'page.xml')} is the input file; write the result elsewhere`,
    ]);
  });

  it('each validation scores the valid lines as a fresh evaluation of that model does (the lines are loaded once and kept)', async () => {
    const out = path.join(tmp, 'validkeep');
    // --lr 0 keeps the random initial weights, whose outputs (not yet all blank) depend on every line.
    await runTrain(tiny(out, ['--max-steps', '6', '--seed', '4', '--lr', '0']), quiet);
    const valid = readFileSync(path.join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((m) => m.type === 'valid');
    expect(valid.map((m) => m.step)).toEqual([3, 6]);
    // The step-6 evaluation used the kept lines; score the final model on freshly composed ones.
    const rec = await Recognizer.load(path.join(out, 'last'));
    const fresh = await evaluate(
      rec,
      await openDataset('mnist-lines', { split: 'valid', count: 6, seed: 5, preprocess: rec.meta.preprocess }),
    );
    expect(fresh.cer).not.toBe(1);
    expect(valid[1].cer).toBe(fresh.cer);
    expect(valid[1].wer).toBe(fresh.wer);
  });

  it('with 2 local worker processes equals the in-process run (same global batches, same augmentation, averaged gradients)', async () => {
    const aug = ['--max-steps', '2', '--augment', 'default'];
    const a = await runTrain(tiny(path.join(tmp, 'single'), aug), quiet);
    const b = await runTrain(tiny(path.join(tmp, 'two'), [...aug, '--workers', '2']), {
      ...quiet,
      workerScript: MAIN,
      workerNodeArgs: NODE_ARGS,
    });
    const plain = await runTrain(tiny(path.join(tmp, 'plain'), ['--max-steps', '2']), quiet);
    expect(b.steps).toBe(2);
    const params = async (dir: string) =>
      (await loadCheckpoint((await latestCheckpoint(path.join(dir, 'checkpoints')))!)).params;
    const maxDiff = (x: Float32Array, y: Float32Array) => x.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i]!)), 0);
    const [pa, pb, pp] = [await params(a.runDir), await params(b.runDir), await params(plain.runDir)];
    // Two shards of 2 lines averaged by count equal one batch of 4 up to float32 summation order; each process
    // augments a sample with the seed of (run seed, step, index), so both saw the same images.
    expect(maxDiff(pa, pb)).toBeLessThan(1e-4);
    // ... and the augmentation did change them: the run without it ends elsewhere.
    expect(maxDiff(pa, pp)).toBeGreaterThan(1e-3);
  });

  it('--curve-keys with --workers: the local workers get the keys they need, join, and the run completes its step', async () => {
    const keyFile = path.join(tmp, 'coordinator.keys');
    writeFileSync(keyFile, JSON.stringify(generateCurveKeyPair()));
    const s = await runTrain(
      tiny(path.join(tmp, 'curve-local'), ['--max-steps', '1', '--workers', '1', '--curve-keys', keyFile]),
      { ...quiet, workerScript: MAIN, workerNodeArgs: NODE_ARGS },
    );
    expect(s.steps).toBe(1);
  });

  it('a remote worker needs only the endpoint (the job comes in WELCOME); a --job of another run is refused', async () => {
    const port = await freePort();
    const endpoint = `tcp://127.0.0.1:${port}`;
    const out = path.join(tmp, 'listen');
    const training = runTrain(tiny(out, ['--max-steps', '2', '--listen', endpoint]), quiet);
    const other = path.join(tmp, 'other-job.json');
    let job: Record<string, unknown> | undefined;
    while (!job) {
      try {
        job = JSON.parse(readFileSync(path.join(out, 'job.json'), 'utf8')); // written by the run as it starts
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    writeFileSync(other, JSON.stringify({ ...job, seed: 7 }));
    const wrong = await cli(['worker', '--connect', endpoint, '--job', other, '--quiet']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr.trim()).toBe(
      `scriptorium worker: --job ${other} is not the coordinator's job (seed differ); leave --job out to use the coordinator's`,
    );
    // A job from a newer version, with a model option this one does not know, is refused rather than half-read.
    const newer = path.join(tmp, 'newer-job.json');
    writeFileSync(newer, JSON.stringify({ ...job, modelOptions: { ...(job.modelOptions as object), cell: 'leaky' } }));
    const unknown = await cli(['worker', '--connect', endpoint, '--job', newer, '--quiet']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim()).toMatch(
      new RegExp(`^scriptorium worker: --job ${newer}: pham2014: unknown model option 'cell' \\(expected one of: `),
    );
    const good = await cli(['worker', '--connect', endpoint, '--quiet']);
    expect(good.code).toBe(0);
    expect((await training).steps).toBe(2);
  });

  it('--lr-decay lowers the learning rate linearly over the end of the budget, and a resume must repeat it', async () => {
    const out = path.join(tmp, 'decay');
    await runTrain(tiny(out, ['--max-steps', '4', '--lr', '0.8', '--lr-decay', '0.5']), quiet);
    const lrs = readFileSync(path.join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((m) => m.type === 'train')
      .map((m) => m.lr);
    // Budget used before steps 1..4: 0, 1/4, 1/2, 3/4; decay from 1/2: full rate, then half-way down at 3/4.
    expect(lrs).toEqual([0.8, 0.8, 0.8, 0.4]);
    await expect(runTrain(tiny(out, ['--max-steps', '6', '--lr', '0.8', '--resume']), quiet)).rejects.toThrow(
      /was trained with --lr-decay 0\.5/,
    );
    await expect(runTrain(tiny(path.join(tmp, 'decay-nobudget'), ['--lr-decay', '0.5']), quiet)).rejects.toThrow(
      '--lr-decay needs a budget to decay over: --max-steps or --time-limit',
    );
  });

  it('an interrupted run resumed with --resume equals the uninterrupted run bit for bit', async () => {
    const whole = await runTrain(tiny(path.join(tmp, 'whole'), ['--max-steps', '4']), quiet);
    const partDir = path.join(tmp, 'part');
    await runTrain(tiny(partDir, ['--max-steps', '2']), quiet);
    const resumed = await runTrain(tiny(partDir, ['--max-steps', '4', '--resume']), quiet);
    expect(resumed.steps).toBe(4);
    const pw = (await loadCheckpoint((await latestCheckpoint(path.join(whole.runDir, 'checkpoints')))!)).params;
    const pr = (await loadCheckpoint((await latestCheckpoint(path.join(partDir, 'checkpoints')))!)).params;
    expect(Buffer.from(pr.buffer).equals(Buffer.from(pw.buffer))).toBe(true);
  });

  it('with dropout too: the masks are seeded by step, so a resumed run still equals the uninterrupted one', async () => {
    const drop = ['--dropout', '0.3'];
    const whole = await runTrain(tiny(path.join(tmp, 'whole-drop'), ['--max-steps', '4', ...drop]), quiet);
    const partDir = path.join(tmp, 'part-drop');
    await runTrain(tiny(partDir, ['--max-steps', '2', ...drop]), quiet);
    await runTrain(tiny(partDir, ['--max-steps', '4', '--resume', ...drop]), quiet);
    const last = async (dir: string) =>
      (await loadCheckpoint((await latestCheckpoint(path.join(dir, 'checkpoints')))!)).params;
    const none = await runTrain(tiny(path.join(tmp, 'whole-nodrop'), ['--max-steps', '4']), quiet);
    const [pw, pr, p0] = [await last(whole.runDir), await last(partDir), await last(none.runDir)];
    expect(Buffer.from(pr.buffer).equals(Buffer.from(pw.buffer))).toBe(true);
    expect(Buffer.from(pw.buffer).equals(Buffer.from(p0.buffer))).toBe(false); // dropout did act (the run without it ends elsewhere)
  });

  it('--ema: checkpoints carry the moving average, updated by its formula, and a resumed run continues it exactly', async () => {
    const ema = ['--ema', '0.5', '--checkpoint-every', '1'];
    const whole = await runTrain(tiny(path.join(tmp, 'whole-ema'), ['--max-steps', '4', ...ema]), quiet);
    const cks = await listCheckpoints(path.join(whole.runDir, 'checkpoints')); // the last 3: steps 2, 3 and 4
    const [c3, c4] = [await loadCheckpoint(cks[1]!), await loadCheckpoint(cks[2]!)];
    const [a3, a4] = [c3.extras.ema!, c4.extras.ema!];
    expect(a4.length).toBe(c4.params.length);
    const d = Math.min(0.5, 5 / 14); // after 4 steps the warm-up, (1 + 4) / (10 + 4), is below 0.5
    let moved = 0;
    for (let i = 0; i < a4.length; i++) {
      expect(a4[i]).toBeCloseTo(d * a3[i]! + (1 - d) * c4.params[i]!, 6);
      if (a4[i] !== c4.params[i]) moved++;
    }
    expect(moved).toBeGreaterThan(a4.length / 2); // the average is not the weights
    const partDir = path.join(tmp, 'part-ema');
    await runTrain(tiny(partDir, ['--max-steps', '2', ...ema]), quiet);
    await runTrain(tiny(partDir, ['--max-steps', '4', '--resume', ...ema]), quiet);
    const r4 = await loadCheckpoint((await latestCheckpoint(path.join(partDir, 'checkpoints')))!);
    expect(Buffer.from(r4.extras.ema!.buffer).equals(Buffer.from(a4.buffer))).toBe(true);
    await expect(runTrain(tiny(partDir, ['--max-steps', '5', '--resume']), quiet)).rejects.toThrow(
      /was trained with --ema 0\.5; give the same/,
    );
    await expect(runTrain(tiny(path.join(tmp, 'ema1'), ['--ema', '1']), quiet)).rejects.toThrow(
      /^--ema 1: expected a decay in \[0, 1\)/,
    );
  });

  it('refuses to resume with a different model or optimisation flags', async () => {
    await expect(
      runTrain(tiny(path.join(tmp, 'part'), ['--max-steps', '5', '--resume', '--height', '64']), quiet),
    ).rejects.toThrow(
      /was written with a different preprocess \(model pham2014, data mnist-lines\); refusing to mix runs/,
    );
    await expect(
      runTrain(tiny(path.join(tmp, 'part'), ['--max-steps', '5', '--resume', '--rho', '0.9', '--batch', '6']), quiet),
    ).rejects.toThrow(/was trained with --batch 4, --rho 0\.95; give the same to continue that run/);
    // The model is rebuilt from the saved options: another cell or dropout would silently be the saved one.
    await expect(
      runTrain(tiny(path.join(tmp, 'part'), ['--max-steps', '5', '--resume', '--mdlstm-cell', 'bounded']), quiet),
    ).rejects.toThrow(/was trained with --mdlstm-cell standard; give the same to continue that run/);
    await expect(
      runTrain(tiny(path.join(tmp, 'part'), ['--max-steps', '5', '--resume', '--dropout', '0.2']), quiet),
    ).rejects.toThrow(/was trained with --dropout 0; give the same to continue that run/);
    // Bucketing changes the batches: it must be repeated too (or, as here, not added).
    await expect(
      runTrain(tiny(path.join(tmp, 'part'), ['--max-steps', '5', '--resume', '--bucket', '3']), quiet),
    ).rejects.toThrow(/was trained with --bucket \(unset\); give the same to continue that run/);
    // --skip-bad only decides what a bad line does: it may be turned on to get a run past one.
    expect(
      (await runTrain(tiny(path.join(tmp, 'part'), ['--max-steps', '5', '--resume', '--skip-bad']), quiet)).steps,
    ).toBe(5);
    // A checkpoint from before the flags were recorded (no settings in its state) has nothing to compare: it resumes.
    const legacyDir = path.join(tmp, 'legacy');
    await runTrain(tiny(legacyDir, ['--max-steps', '2']), quiet);
    const ck = await loadCheckpoint((await latestCheckpoint(path.join(legacyDir, 'checkpoints')))!);
    const oldState = { ...(ck.appState as Record<string, unknown>) };
    delete oldState.settings;
    await saveCheckpoint(path.join(legacyDir, 'checkpoints'), { ...ck, step: 3, appState: oldState });
    expect((await runTrain(tiny(legacyDir, ['--max-steps', '4', '--resume', '--bucket', '2']), quiet)).steps).toBe(4);
  });
});
