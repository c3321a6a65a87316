import { describe, expect, it } from 'vitest';
import { MNIST_LAYOUT_DEFAULTS, MNIST_WARMUP_LAYOUT } from './mnist-layout-options.js';
import { isSyntheticSpec, openDataset, parseSpecOptions, syntheticSpec } from './open-dataset.js';

describe('openDataset specs of generated data', () => {
  it('reads NAME:key=value,... against the dataset defaults', () => {
    const defaults = { a: 1, bee: 2.5 };
    expect(parseSpecOptions('x', '', defaults)).toEqual({});
    expect(parseSpecOptions('x:a=3,bee=-0.5', 'a=3,bee=-0.5', defaults)).toEqual({ a: 3, bee: -0.5 });
    expect(() => parseSpecOptions('x:a=3,a=4', 'a=3,a=4', defaults)).toThrow("data spec 'x:a=3,a=4': a given twice");
    expect(() => parseSpecOptions('x:c=1', 'c=1', defaults)).toThrow("unknown option 'c' (expected one of: a, bee)");
    expect(() => parseSpecOptions('x:a=1e', 'a=1e', defaults)).toThrow('a=1e (expected a=NUMBER, default 1)');
    expect(() => parseSpecOptions('x:toString=1', 'toString=1', defaults)).toThrow("unknown option 'toString'");
  });

  it('opens textlines with its options, in the split asked for', async () => {
    const ds = await openDataset('textlines:minWords=2,maxWords=3', { split: 'valid', count: 12, seed: 4 });
    expect([ds.name, ds.size]).toEqual(['textlines:valid', 12]);
    for (let i = 0; i < 12; i++) {
      const words = ds.text(i).split(' ').length;
      expect(words).toBeGreaterThanOrEqual(2);
      expect(words).toBeLessThanOrEqual(3);
    }
    const line = await ds.load(0);
    expect([line.text, line.image.height]).toEqual([ds.text(0), 32]);
    await expect(openDataset('textlines:maxWord=3')).rejects.toThrow(
      /unknown option 'maxWord' \(expected one of: minWords, maxWords,/,
    );
  });

  it('writes specs that read back as the options they were made from', async () => {
    expect(syntheticSpec('textlines')).toBe('textlines');
    expect(syntheticSpec('mnist-lines', { maxDigits: 6, slant: 0.25, margin: undefined })).toBe(
      'mnist-lines:maxDigits=6,slant=0.25',
    );
    const spec = syntheticSpec('mnist-lines', MNIST_WARMUP_LAYOUT);
    expect(
      parseSpecOptions(
        spec,
        spec.slice('mnist-lines:'.length),
        MNIST_LAYOUT_DEFAULTS as unknown as Record<string, number>,
      ),
    ).toEqual(MNIST_WARMUP_LAYOUT);
    // The warm-up layout is a valid one, and draws what it says: 2 to 6 digits.
    const ds = await openDataset(spec, { count: 40, seed: 3 });
    const lengths = Array.from({ length: ds.size }, (_, i) => ds.text(i).length);
    expect([Math.min(...lengths), Math.max(...lengths)]).toEqual([2, 6]);
  });

  it('tells generated specs from file-backed ones', () => {
    expect(['mnist-lines', 'mnist-lines:slant=0', 'mnist-unseen', 'textlines:maxWords=4'].map(isSyntheticSpec)).toEqual(
      [true, true, true, true],
    );
    expect(['manifest:a.tsv', 'iam:/data', 'gt:x', 'page:y', 'mnist'].map(isSyntheticSpec)).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
  });
});
