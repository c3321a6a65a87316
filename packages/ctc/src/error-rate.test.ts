import { describe, expect, it } from 'vitest';
import { cer, wer } from './error-rate.js';

describe('cer', () => {
  it('is total edits over total reference code points, and per line', () => {
    // 'abc' -> 'abd': 1 substitution; 'de' -> '': 2 deletions. 3 edits / 5 code points.
    const r = cer(['abc', 'de'], ['abd', '']);
    expect(r).toMatchObject({ edits: 3, refLength: 5, rate: 0.6, perLineEdits: [1, 2] });
    expect(r.perLine[0]).toBeCloseTo(1 / 3, 12);
    expect(r.perLine[1]).toBe(1);
  });

  it('counts code points, not UTF-16 units: an emoji is one character', () => {
    expect(cer(['a👍b'], ['ab'])).toMatchObject({ edits: 1, refLength: 3 });
  });

  it('an empty reference counts as length 1 in the rate', () => {
    expect(cer([''], ['xy'])).toMatchObject({ edits: 2, refLength: 0, rate: 2, perLine: [2] });
  });

  it('rejects a different number of lines', () => {
    expect(() => cer(['a', 'b'], ['a'])).toThrow(/hyps: has 1 lines; expected one per reference line \(2\)/);
  });
});

describe('wer', () => {
  it('works on whitespace-separated words', () => {
    // 'the cat sat' -> 'the bat sat down': cat->bat, +down = 2; 'a b' -> 'a  b' (extra space): 0. 2 / 5 words.
    const r = wer(['the cat sat', 'a b'], ['the bat sat down', ' a  b ']);
    expect(r).toMatchObject({ edits: 2, refLength: 5, rate: 0.4, perLineEdits: [2, 0] });
  });
});
