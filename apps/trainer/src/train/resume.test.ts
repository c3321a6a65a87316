import { Alphabet, DEFAULT_PREPROCESS } from '@scriptorium/data';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../cli/errors.js';
import type { TrainJob } from '../job.js';
import { TRAIN_DEFAULTS, type TrainOptions } from './options.js';
import { checkResume, resumeEma, runSettings, type Settings } from './resume.js';

const FILE = 'runs/a/checkpoints/step-000000002.dpck';
const job = (extra: Partial<Omit<TrainJob, 'arch' | 'modelOptions'>> = {}): TrainJob => ({
  arch: 'pham2014',
  modelOptions: { dropout: 0 },
  alphabet: Alphabet.fromTexts(['0123456789']).toJSON(),
  data: { spec: 'mnist-lines', count: 24, seed: 1 },
  preprocess: { ...DEFAULT_PREPROCESS, height: 32 },
  seed: 1,
  ...extra,
});
const options = (extra: Partial<TrainOptions> = {}): TrainOptions => ({ ...TRAIN_DEFAULTS, batch: 4, ...extra });
const refusal = (r: ReturnType<typeof checkResume>) => ('refusal' in r ? r.refusal : undefined);

describe('runSettings', () => {
  it('records the optimisation flags by name; --lr-decay, --bucket and --ema only when given', () => {
    expect(runSettings(options())).toEqual({
      '--batch': 4,
      '--lr': 1,
      '--rho': 0.95,
      '--eps': 1e-6,
      '--clip-norm': null,
      '--augment': 'none',
    });
    expect(runSettings(options({ lrDecay: 0.5, bucket: 3, ema: 0.99, clipNorm: 5 }))).toMatchObject({
      '--lr-decay': 0.5,
      '--bucket': 3,
      '--ema': 0.99,
      '--clip-norm': 5,
    });
  });
});

describe('checkResume', () => {
  const settings = runSettings(options());
  const current = (j: TrainJob = job(), s: Settings = settings) => ({ job: j, settings: s });

  it('accepts the same run, and continues the saved job with the current skipBad and cacheMb', () => {
    const saved = { job: job({ skipBad: true }), settings };
    expect(checkResume(saved, current(job({ cacheMb: 64 })), FILE)).toEqual({
      job: { ...job(), skipBad: undefined, cacheMb: 64 },
    });
  });

  it("continues a checkpoint from before the paper level (no preprocess.background) with the old normalisation, 'zero'", () => {
    const { background: _, ...old } = job().preprocess;
    const r = checkResume({ job: job({ preprocess: old }), settings }, current(), FILE);
    expect('job' in r && r.job.preprocess).toEqual({ ...DEFAULT_PREPROCESS, height: 32, background: 'zero' });
  });

  it('continues a checkpoint from before baseline straightening (no preprocess.straighten) without it', () => {
    const { straighten: _, ...old } = job().preprocess;
    const r = checkResume({ job: job({ preprocess: old }), settings }, current(), FILE);
    expect('job' in r && r.job.preprocess).toEqual({ ...DEFAULT_PREPROCESS, height: 32, straighten: false });
  });

  it('refuses another architecture, data, line normalisation or alphabet, naming each and the saved run', () => {
    const saved = { job: job(), settings };
    const cnn: TrainJob = { ...job(), arch: 'cnn-blstm', modelOptions: {} };
    expect(refusal(checkResume(saved, current(cnn), FILE))).toBe(
      `train --resume: ${FILE} was written with a different arch (model pham2014, data mnist-lines); refusing to mix runs`,
    );
    const other = job({
      data: { spec: 'textlines', count: 24, seed: 1 },
      preprocess: { ...DEFAULT_PREPROCESS, height: 64 },
    });
    expect(refusal(checkResume(saved, current(other), FILE))).toBe(
      `train --resume: ${FILE} was written with a different data, preprocess (model pham2014, data mnist-lines); refusing to mix runs`,
    );
    expect(
      refusal(checkResume(saved, current(job({ alphabet: Alphabet.fromTexts(['0123']).toJSON() })), FILE)),
    ).toMatch(/a different alphabet \(model/);
  });

  it('refuses changed optimisation flags with the saved values, in the order they were recorded', () => {
    const saved = { job: job(), settings };
    expect(refusal(checkResume(saved, current(job(), runSettings(options({ rho: 0.9, batch: 6 }))), FILE))).toBe(
      `train --resume: ${FILE} was trained with --batch 4, --rho 0.95; give the same to continue that run`,
    );
    // A flag recorded only when given: adding it is a change from '(unset)'; dropping it names its saved value.
    expect(refusal(checkResume(saved, current(job(), runSettings(options({ bucket: 3 }))), FILE))).toMatch(
      /was trained with --bucket \(unset\); give/,
    );
    const withEma = { job: job(), settings: runSettings(options({ ema: 0.5 })) };
    expect(refusal(checkResume(withEma, current(), FILE))).toMatch(/was trained with --ema 0\.5; give the same/);
  });

  it('refuses a changed curriculum or fine-tuning: --warmup-data/--warmup-steps, --init-from and --freeze', () => {
    const warm = { warmupData: 'mnist-lines:maxDigits=6', warmupSteps: 100 };
    const saved = {
      job: job(),
      settings: runSettings(options({ ...warm, initFrom: 'runs/base/best', freeze: ['mdlstm1'] })),
    };
    expect(
      refusal(
        checkResume(
          saved,
          current(job(), runSettings(options({ ...warm, initFrom: 'runs/base/best', freeze: ['mdlstm1'] }))),
          FILE,
        ),
      ),
    ).toBeUndefined();
    expect(
      refusal(
        checkResume(
          saved,
          current(
            job(),
            runSettings(options({ ...warm, warmupSteps: 50, initFrom: 'runs/base/best', freeze: ['mdlstm1'] })),
          ),
          FILE,
        ),
      ),
    ).toMatch(/was trained with --warmup-steps 100; give/);
    expect(
      refusal(checkResume(saved, current(job(), runSettings(options({ ...warm, initFrom: 'runs/base/best' }))), FILE)),
    ).toMatch(/was trained with --freeze mdlstm1; give/);
    expect(
      refusal(
        checkResume(
          saved,
          current(job(), runSettings(options({ initFrom: 'runs/base/best', freeze: ['mdlstm1'] }))),
          FILE,
        ),
      ),
    ).toMatch(/was trained with --warmup-data mnist-lines:maxDigits=6, --warmup-steps 100; give/);
  });

  it('refuses a changed rehearsal: another --mix-share or --mix-data, or one given or left out', () => {
    const mix = { mixData: 'manifest:old/train.tsv', mixShare: 0.5 };
    const saved = {
      job: job({ mix: { spec: mix.mixData, share: mix.mixShare } }),
      settings: runSettings(options(mix)),
    };
    const resume = (o: Partial<TrainOptions>) =>
      refusal(checkResume(saved, current(job(), runSettings(options(o))), FILE));
    expect(checkResume(saved, current(saved.job, runSettings(options(mix))), FILE)).toEqual({ job: saved.job });
    expect(resume({ ...mix, mixShare: 0.3 })).toBe(
      `train --resume: ${FILE} was trained with --mix-share 0.5; give the same to continue that run`,
    );
    expect(resume({ ...mix, mixData: 'mnist-lines' })).toMatch(
      /was trained with --mix-data manifest:old\/train\.tsv; give/,
    );
    expect(resume({})).toMatch(/was trained with --mix-data manifest:old\/train\.tsv, --mix-share 0\.5; give/);
    const plain = { job: job(), settings: runSettings(options()) };
    expect(refusal(checkResume(plain, current(job(), runSettings(options(mix))), FILE))).toMatch(
      /was trained with --mix-data \(unset\), --mix-share \(unset\); give/,
    );
  });

  it('refuses other model options: the model is rebuilt from the saved ones', () => {
    const saved = { job: job(), settings };
    const bounded: TrainJob = { ...job(), arch: 'pham2014', modelOptions: { dropout: 0, bounded: true } };
    expect(refusal(checkResume(saved, current(bounded), FILE))).toMatch(
      /was trained with --mdlstm-cell standard; give the same/,
    );
    expect(
      refusal(checkResume(saved, current({ ...job(), arch: 'pham2014', modelOptions: { dropout: 0.2 } }), FILE)),
    ).toMatch(/was trained with --dropout 0; give/);
    expect(refusal(checkResume(saved, current({ ...job(), arch: 'pham2014', modelOptions: {} }), FILE))).toMatch(
      /was trained with --dropout 0; give/,
    );
  });

  it('a checkpoint from before the flags were recorded resumes with any settings, but not with other model options', () => {
    const legacy = { job: job() };
    expect(checkResume(legacy, current(job(), runSettings(options({ bucket: 2, batch: 8 }))), FILE)).toEqual({
      job: job(),
    });
    expect(
      refusal(checkResume(legacy, current({ ...job(), arch: 'pham2014', modelOptions: { dropout: 0.5 } }), FILE)),
    ).toMatch(/--dropout 0;/);
  });
});

describe('resumeEma', () => {
  const params = Float32Array.from([1, 2, 3]);

  it('without --ema there is none; a fresh run starts from a copy of the weights', () => {
    expect(resumeEma(undefined, params)).toBeUndefined();
    const fresh = resumeEma(0.9, params)!;
    expect(fresh.decay).toBe(0.9);
    expect(Array.from(fresh.weights)).toEqual([1, 2, 3]);
    expect(fresh.weights).not.toBe(params);
  });

  it("a resume continues the checkpoint's average, and refuses a checkpoint without one", () => {
    const ema = Float32Array.from([0.5, 1, 1.5]);
    expect(resumeEma(0.9, params, { path: FILE, extras: { ema } })!.weights).toBe(ema);
    expect(() => resumeEma(0.9, params, { path: FILE, extras: {} })).toThrow(
      new UsageError(`train --resume --ema: ${FILE} holds no moving average of the weights to continue`, false),
    );
    expect(() => resumeEma(0.9, params, { path: FILE, extras: { ema: new Float32Array(2) } })).toThrow(
      `${FILE}: moving average has 2 values, the model 3`,
    );
  });
});
