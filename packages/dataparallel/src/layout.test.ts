import { describe, expect, it } from 'vitest';
import { assertSameLayout, createLayout, layoutDifferences, validateLayout } from './layout.js';

describe('createLayout', () => {
  it('packs tensors end to end in order', () => {
    // w [3, 4] -> 12 values at 0; b [4] at 12; s [] (scalar) at 16; total 17.
    const l = createLayout([
      { name: 'w', shape: [3, 4] },
      { name: 'b', shape: [4] },
      { name: 's', shape: [] },
    ]);
    expect(l.entries.map((e) => [e.name, e.offset, e.size])).toEqual([
      ['w', 0, 12],
      ['b', 12, 4],
      ['s', 16, 1],
    ]);
    expect(l.size).toBe(17);
  });

  it('throws for duplicate names and bad dimensions, naming the entry', () => {
    expect(() =>
      createLayout([
        { name: 'a', shape: [1] },
        { name: 'a', shape: [2] },
      ]),
    ).toThrow("layout entry 1: duplicate name 'a'");
    expect(() => createLayout([{ name: 'a', shape: [2, -1] }])).toThrow(
      "layout entry 0 ('a'): shape [2, -1] has dimension -1",
    );
    expect(() => createLayout([{ name: '', shape: [1] }])).toThrow('layout entry 0: name must be a non-empty string');
  });
});

describe('layoutDifferences', () => {
  const model = createLayout([
    { name: 'w', shape: [3, 4] },
    { name: 'b', shape: [4] },
  ]);

  it('is empty for equal layouts', () => {
    expect(
      layoutDifferences(
        model,
        createLayout([
          { name: 'w', shape: [3, 4] },
          { name: 'b', shape: [4] },
        ]),
      ),
    ).toEqual([]);
  });

  it('names missing, extra, reshaped and moved tensors', () => {
    const other = createLayout([
      { name: 'b', shape: [4] },
      { name: 'w', shape: [3, 5] },
      { name: 'extra', shape: [2] },
    ]);
    expect(layoutDifferences(model, other)).toEqual([
      "tensor 'w' has shape [3, 5], expected [3, 4]",
      "tensor 'b' is at offset 0 (size 4), expected offset 12 (size 4); position 1",
      "unexpected tensor 'extra' [2]",
    ]);
    const swapped = createLayout([
      { name: 'b', shape: [4] },
      { name: 'w', shape: [3, 4] },
    ]);
    expect(layoutDifferences(model, swapped)).toEqual([
      "tensor 'w' is at offset 4 (size 12), expected offset 0 (size 12); position 0",
      "tensor 'b' is at offset 0 (size 4), expected offset 12 (size 4); position 1",
    ]);
    expect(layoutDifferences(model, createLayout([{ name: 'w', shape: [3, 4] }]))).toEqual([
      "tensor 'b' [4] is missing",
    ]);
    expect(() => assertSameLayout(model, swapped, 'checkpoint x')).toThrow(
      /^checkpoint x: parameter layout differs: tensor 'w'/,
    );
  });
});

describe('validateLayout', () => {
  it('accepts a well-formed layout and rejects inconsistent offsets', () => {
    const l = createLayout([
      { name: 'w', shape: [2, 2] },
      { name: 'b', shape: [2] },
    ]);
    expect(validateLayout(JSON.parse(JSON.stringify(l)))).toEqual(l);
    const bad = JSON.parse(JSON.stringify(l));
    bad.entries[1].offset = 3;
    expect(() => validateLayout(bad, 'WELCOME.layout')).toThrow(
      "WELCOME.layout: inconsistent offsets or sizes: tensor 'b' is at offset 3",
    );
    expect(() => validateLayout({ entries: 'x', size: 1 })).toThrow(
      'layout: expected { entries: [...], size: integer }',
    );
  });
});
