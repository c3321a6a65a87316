import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from './errors.js';
import { flagChoice, flagValue, parseDuration, parseFlags, usage, type CommandSpec } from './flags.js';

const cmd: CommandSpec = {
  name: 'train',
  summary: 'Train.',
  synopsis: '[options]',
  flags: [
    { name: 'model', type: 'string', choices: ['pham2014', 'cnn-blstm'], default: 'pham2014', help: 'arch' },
    { name: 'batch', type: 'int', min: 1, default: 16, help: 'batch' },
    { name: 'time-limit', type: 'duration', help: 'limit' },
    { name: 'resume', type: 'boolean', default: false, help: 'resume' },
  ],
};

describe('parseFlags', () => {
  it('reads --flag value, --flag=value, booleans and defaults', () => {
    const f = parseFlags(cmd, ['--batch', '8', '--time-limit=1m30s', '--resume']);
    expect(f).toMatchObject({ model: 'pham2014', batch: 8, 'time-limit': 90_000, resume: true, _: [] });
    expect(parseFlags(cmd, ['--no-resume']).resume).toBe(false);
  });

  it('unknown flags, bad values and missing values are one-line UsageErrors', () => {
    const err = (argv: string[]) => {
      try {
        parseFlags(cmd, argv);
      } catch (e) {
        expect(e).toBeInstanceOf(UsageError);
        return (e as Error).message;
      }
      throw new Error('expected an error');
    };
    expect(err(['--bach', '8'])).toBe("unknown option '--bach' for 'train'");
    expect(err(['--batch', 'x'])).toBe("--batch: 'x' is not an integer");
    expect(err(['--batch', '0'])).toBe("--batch: '0' is not >= 1");
    expect(err(['--model', 'resnet'])).toBe("--model: unknown value 'resnet' (expected one of: pham2014, cnn-blstm)");
    expect(err(['--batch'])).toBe('--batch needs a value (int)');
    expect(err(['img.png'])).toBe("'train' takes no positional argument, got 'img.png'");
    expect(err(['-b'])).toMatch(/unknown option '-b'/);
  });

  it('takes values from a JSON config file; command-line flags win', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'flags-'));
    const file = path.join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ batch: 4, timeLimit: '2m', model: 'cnn-blstm' }));
    expect(parseFlags(cmd, ['--config', file, '--batch', '6'])).toMatchObject({
      batch: 6,
      'time-limit': 120_000,
      model: 'cnn-blstm',
    });
    writeFileSync(file, JSON.stringify({ batchSize: 4 }));
    expect(() => parseFlags(cmd, ['--config', file])).toThrow(`${file}: unknown key 'batchSize' for 'train'`);
    writeFileSync(file, '{ nope');
    expect(() => parseFlags(cmd, ['--config', file])).toThrow(/not valid JSON/);
  });

  it('usage lists every flag with its default', () => {
    const text = usage(cmd);
    for (const f of cmd.flags) expect(text).toContain(`--${f.name}`);
    expect(text).toContain('(default: 16)');
  });
});

describe('parseDuration', () => {
  it('parses units and plain seconds', () => {
    // 1h30m = 5400 s; 250ms; '45' = 45 s.
    expect(parseDuration('1h30m', 'x')).toBe(5_400_000);
    expect(parseDuration('250ms', 'x')).toBe(250);
    expect(parseDuration('45', 'x')).toBe(45_000);
    expect(() => parseDuration('10 minutes', 'time-limit')).toThrow("--time-limit: '10 minutes' is not a duration");
  });
});

describe('flagValue and flagChoice', () => {
  it('read parsed values by type; unset flags without default are undefined', () => {
    const f = parseFlags(cmd, ['--batch', '8', '--time-limit', '2m']);
    expect(flagValue(f, 'batch', 'number')).toBe(8);
    expect(flagValue(f, 'time-limit', 'number')).toBe(120_000);
    expect(flagValue(f, 'resume', 'boolean')).toBe(false);
    expect(flagChoice(f, 'model', ['pham2014', 'cnn-blstm'])).toBe('pham2014');
    expect(flagValue(parseFlags(cmd, []), 'time-limit', 'number')).toBeUndefined();
  });

  it('a value of another type than asked is an internal error, not a usage error', () => {
    const f = parseFlags(cmd, []);
    expect(() => flagValue(f, 'model', 'number')).toThrow(
      new TypeError('internal: flag --model holds "pham2014", not a number'),
    );
    expect(() => flagChoice(f, 'model', ['cnn-blstm'])).toThrow(TypeError);
  });
});
