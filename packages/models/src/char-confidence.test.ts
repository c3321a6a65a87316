import { describe, expect, it } from 'vitest';
import { charConfidences } from './char-confidence.js';

describe('charConfidences', () => {
  it('is the best softmax probability of each character over its span, worked by hand', () => {
    // Three classes (blank 0), four frames; 'label 1' spans frames 0-1, 'label 2' frame 3.
    const logits = Float32Array.from([
      Math.log(2),
      Math.log(6),
      0, // p = [2, 6, 1] / 9
      0,
      Math.log(3),
      0, //           p = [1, 3, 1] / 5
      5,
      0,
      0, //                     blank frame, outside every span
      Math.log(3),
      0,
      Math.log(6), // p = [3, 1, 6] / 10
    ]);
    const conf = charConfidences(
      logits,
      3,
      [1, 2],
      [
        [0, 2],
        [3, 4],
      ],
    );
    expect(conf[0]).toBeCloseTo(6 / 9, 6);
    expect(conf[1]).toBeCloseTo(6 / 10, 6);
  });

  it('does not depend on a constant added to a frame (the logits are unnormalised)', () => {
    const a = Float32Array.from([1, 2, 3, 0.5, 0.5, 4]);
    const b = Float32Array.from([101, 102, 103, -49.5, -49.5, -46]);
    expect(
      charConfidences(
        b,
        3,
        [2, 0],
        [
          [0, 1],
          [1, 2],
        ],
      ),
    ).toEqual(
      charConfidences(
        a,
        3,
        [2, 0],
        [
          [0, 1],
          [1, 2],
        ],
      ).map((v) => expect.closeTo(v, 6)),
    );
  });
});
