import { ADADELTA_DEFAULTS } from '@scriptorium/adadelta';
import { DEFAULT_PREPROCESS } from '@scriptorium/data';
import { ARCHS } from '@scriptorium/models';
import { BACKEND_NAMES } from '@scriptorium/runtime';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../cli/errors.js';
import { parseFlags, usage, type CommandSpec } from '../cli/flags.js';
import { checkTrainOptions, TRAIN_DEFAULTS, TRAIN_FLAGS, trainOptions, type TrainOptions } from './options.js';

const cmd: CommandSpec = { name: 'train', summary: 'Train.', synopsis: '[options]', flags: TRAIN_FLAGS };
const parse = (argv: string[]) => trainOptions(parseFlags(cmd, argv));
const camel = (flag: string) => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

describe('trainOptions', () => {
  it("no flags give TRAIN_DEFAULTS, whose values are the packages' own constants", () => {
    expect(parse([])).toEqual(TRAIN_DEFAULTS);
    expect([TRAIN_DEFAULTS.lr, TRAIN_DEFAULTS.rho, TRAIN_DEFAULTS.eps]).toEqual([
      ADADELTA_DEFAULTS.learningRate,
      ADADELTA_DEFAULTS.rho,
      ADADELTA_DEFAULTS.epsilon,
    ]);
    expect(TRAIN_DEFAULTS.height).toBe(DEFAULT_PREPROCESS.height);
    const spec = (name: string) => TRAIN_FLAGS.find((f) => f.name === name)!;
    expect(spec('backend').choices).toBe(BACKEND_NAMES);
    expect(spec('model').choices).toBe(ARCHS);
    expect(usage(cmd)).toContain(
      'Adadelta epsilon (sets the size of the first steps: about lr*sqrt(eps)/rms(grad)) (default: 0.000001)',
    );
  });

  it('every flag lands in the field of its camelCase name (as --config takes it), the model flags in `model`', () => {
    const modelFlags = ['model', 'dropout', 'mdlstm-cell'];
    const sample = { string: 'x', number: '0.5', boolean: 'true', duration: '2m', list: 'a,b' };
    for (const f of TRAIN_FLAGS.filter((f) => !modelFlags.includes(f.name))) {
      const value = f.choices
        ? f.choices[f.choices.length - 1]!
        : f.type === 'int'
          ? String((f.min ?? 0) + 17)
          : sample[f.type];
      const given = parseFlags(cmd, [`--${f.name}=${value}`]);
      expect(given[f.name], f.name).toBeDefined();
      expect(trainOptions(given)[camel(f.name) as keyof TrainOptions], f.name).toEqual(given[f.name]);
    }
  });

  it('--init-from refuses --model, --mdlstm-cell and --height (the bundle has them); --dropout may change', () => {
    expect(() => parse(['--init-from', 'runs/a/best', '--height', '32', '--mdlstm-cell', 'bounded'])).toThrow(
      new UsageError(
        '--init-from takes the architecture, --mdlstm-cell and --height from its bundle: leave out --mdlstm-cell, --height',
      ),
    );
    expect(parse(['--init-from', 'runs/a/best', '--dropout', '0.1'])).toMatchObject({
      initFrom: 'runs/a/best',
      model: { modelOptions: { dropout: 0.1 } },
    });
    expect(usage(cmd)).toContain('line height after normalisation, px (default: 32)');
  });

  it('--model, --dropout and --mdlstm-cell make one model choice', () => {
    expect(parse(['--dropout', '0.2', '--mdlstm-cell', 'bounded']).model).toEqual({
      arch: 'pham2014',
      modelOptions: { dropout: 0.2, bounded: true },
    });
    expect(parse(['--model', 'cnn-blstm', '--dropout', '0']).model).toEqual({
      arch: 'cnn-blstm',
      modelOptions: { dropout: 0 },
    });
    expect(parse(['--model', 'cnn-blstm']).model).toEqual({ arch: 'cnn-blstm', modelOptions: {} });
    expect(() => parse(['--model', 'cnn-blstm', '--mdlstm-cell', 'bounded'])).toThrow(
      new UsageError('--mdlstm-cell bounded: model cnn-blstm has no MDLSTM layers (pham2014 has)'),
    );
  });
});

describe('checkTrainOptions', () => {
  const check = (extra: Partial<TrainOptions>) => () => checkTrainOptions({ ...TRAIN_DEFAULTS, ...extra });

  it('gives the Adadelta configuration of the run: the flags, non-finite steps skipped', () => {
    expect(check({ lr: 0.5, clipNorm: 5 })()).toEqual({
      ...ADADELTA_DEFAULTS,
      learningRate: 0.5,
      clipNorm: 5,
      onNonFinite: 'skip',
    });
  });

  it('refuses combinations and ranges one flag cannot check, naming the flags', () => {
    expect(check({ workers: 2, listen: 'tcp://127.0.0.1:5555' })).toThrow(
      'train: give either --workers N or --listen ENDPOINT, not both',
    );
    expect(check({ lrDecay: 1, maxSteps: 10 })).toThrow('--lr-decay 1: expected a fraction of the budget in [0, 1)');
    expect(check({ lrDecay: 0.5 })).toThrow('--lr-decay needs a budget to decay over: --max-steps or --time-limit');
    expect(check({ warmupData: 'mnist-lines:maxDigits=6' })).toThrow(
      '--warmup-data and --warmup-steps go together: give both or neither',
    );
    expect(check({ warmupSteps: 100 })).toThrow('--warmup-data and --warmup-steps go together');
    expect(check({ mixData: 'mnist-lines' })).toThrow('--mix-data and --mix-share go together: give both or neither');
    expect(check({ mixShare: 0.5 })).toThrow('--mix-data and --mix-share go together');
    // A share of 0 or 1 is no mix: the training data alone, or the mix data alone (--data says that).
    for (const p of [1.5, 1, 0, -0.2, Number.NaN])
      expect(check({ mixData: 'mnist-lines', mixShare: p })).toThrow(
        new UsageError(`--mix-share ${p}: expected a fraction in (0, 1), e.g. 0.5 for half the lines`),
      );
    expect(
      check({ mixData: 'mnist-lines', mixShare: 0.5, warmupData: 'mnist-lines:maxDigits=6', warmupSteps: 9 }),
    ).not.toThrow();
    expect(check({ ema: 1 })).toThrow('--ema 1: expected a decay in [0, 1), e.g. 0.999');
    expect(check({ rho: 2 })).toThrow(/^--rho: adadelta: rho = 2 is invalid/);
    expect(check({ eps: 0 })).toThrow(/^--eps: adadelta: epsilon = 0 is invalid/);
    expect(check({ lr: Infinity })).toThrow(UsageError);
  });
});
