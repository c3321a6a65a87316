// ctcForwardBackward's edge cases, precision guards and refusals (its agreement with the oracles is in
// ctc-forward-backward.test.ts).
import { Rng } from '@scriptorium/runtime';
import { describe, expect, it } from 'vitest';
import { ctcBruteForce } from './ctc-brute-force.js';
import { ctcForwardBackward } from './ctc-forward-backward.js';
import { maxAbsDiff, randomLogits } from './test-util.js';

describe('ctcForwardBackward edge cases', () => {
  it('is unchanged by padding frames past the length (even NaN) and permutes with the batch', () => {
    const rng = new Rng(9);
    const [T, C] = [8, 4];
    const a = randomLogits(rng, T * C),
      b = randomLogits(rng, T * C),
      c = randomLogits(rng, T * C);
    const labels = [[1, 2], [3], [2, 2, 1]];
    const lengths = [8, 5, 7];
    const one = (x: Float32Array, label: number[], len: number) =>
      ctcForwardBackward({ logits: x.slice(0, len * C), shape: [1, len, C], labels: [label], logitLengths: [len] });
    const singles = [one(a, labels[0]!, 8), one(b, labels[1]!, 5), one(c, labels[2]!, 7)];
    const padded = (xs: Float32Array[]) => {
      const out = new Float32Array(xs.length * T * C);
      xs.forEach((x, i) => out.set(x, i * T * C));
      return out;
    };
    const bc = padded([a, b, c]);
    bc.fill(NaN, 1 * T * C + 5 * C, 2 * T * C); // sample 1 uses 5 frames; the rest is NaN
    const batch = ctcForwardBackward({ logits: bc, shape: [3, T, C], labels, logitLengths: lengths });
    const order = [2, 0, 1];
    const permuted = ctcForwardBackward({
      logits: padded(order.map((i) => [a, b, c][i]!)),
      shape: [3, T, C],
      labels: order.map((i) => labels[i]!),
      logitLengths: order.map((i) => lengths[i]!),
    });
    for (let i = 0; i < 3; i++) {
      expect(batch.loss[i]).toBe(singles[i]!.loss[0]);
      const g = batch.grad.subarray(i * T * C, (i + 1) * T * C);
      expect(Array.from(g.subarray(0, lengths[i]! * C))).toEqual(Array.from(singles[i]!.grad));
      expect(g.subarray(lengths[i]! * C).every((v) => v === 0)).toBe(true);
      const j = order.indexOf(i);
      expect(permuted.loss[j]).toBe(batch.loss[i]);
      expect(Array.from(permuted.grad.subarray(j * T * C, (j + 1) * T * C))).toEqual(Array.from(g));
    }
  });

  it('gives +Infinity and zero gradient for infeasible pairs, 0 with zeroInfinity, never NaN', () => {
    const rng = new Rng(4);
    const logits = randomLogits(rng, 3 * 2 * 3);
    // [1,1] needs 3 frames; [1,2,1] needs 3 frames; sample lengths 2 and 2.
    const opts = { logits, shape: [3, 2, 3] as const, labels: [[1, 1], [1, 2, 1], [2]], logitLengths: [2, 2, 2] };
    const plain = ctcForwardBackward(opts);
    expect(plain.loss[0]).toBe(Infinity);
    expect(plain.loss[1]).toBe(Infinity);
    expect(Number.isFinite(plain.loss[2])).toBe(true);
    expect(plain.grad.subarray(0, 12).every((g) => g === 0)).toBe(true);
    const zeroed = ctcForwardBackward({ ...opts, zeroInfinity: true });
    expect(Array.from(zeroed.loss.subarray(0, 2))).toEqual([0, 0]);
    expect(zeroed.loss[2]).toBe(plain.loss[2]);
    expect(zeroed.grad.some(Number.isNaN)).toBe(false);
  });

  it('empty labels: loss is -sum_t log softmax(blank), gradient softmax - onehot(blank)', () => {
    const rng = new Rng(6);
    const [T, C, blank] = [4, 3, 2];
    const logits = randomLogits(rng, T * C);
    const { loss, grad } = ctcForwardBackward({ logits, shape: [1, T, C], labels: [[]], logitLengths: [T], blank });
    let expected = 0;
    for (let t = 0; t < T; t++) {
      const row = Array.from(logits.subarray(t * C, (t + 1) * C));
      const z = row.reduce((s, v) => s + Math.exp(v), 0);
      expected -= row[blank]! - Math.log(z);
      for (let c = 0; c < C; c++) {
        expect(grad[t * C + c]).toBeCloseTo(Math.exp(row[c]!) / z - (c === blank ? 1 : 0), 6);
      }
    }
    expect(loss[0]).toBeCloseTo(expected, 9);
    // No frames: the empty label has probability 1, any other label 0.
    const none = ctcForwardBackward({
      logits: new Float32Array(0),
      shape: [2, 0, 3],
      labels: [[], [1]],
      logitLengths: [0, 0],
    });
    expect(Array.from(none.loss)).toEqual([0, Infinity]);
  });

  it('falls back to log space when float64 probabilities underflow (logits ~2000 apart)', () => {
    // Label [1,2,1] in 3 frames has one alignment, 1 2 1. Frame 1 puts class 2 2000 below the others, so its
    // probability exp(-2000)/(2 + exp(-2000)) underflows; loss = -sum_t log softmax(x_t)[path_t] analytically.
    const x = [
      [0, 3, 0],
      [0, 0, -2000],
      [1, 2, -1],
    ];
    const logits = Float32Array.from(x.flat());
    const { loss, grad } = ctcForwardBackward({ logits, shape: [1, 3, 3], labels: [[1, 2, 1]], logitLengths: [3] });
    const path = [1, 2, 1];
    let expected = 0;
    for (let t = 0; t < 3; t++) {
      const m = Math.max(...x[t]!);
      const lse = m + Math.log(x[t]!.reduce((s, v) => s + Math.exp(v - m), 0));
      expected -= x[t]![path[t]!]! - lse;
    }
    expect(expected).toBeGreaterThan(2000);
    expect(loss[0]).toBeCloseTo(expected, 6);
    // One alignment: the gradient is softmax - onehot(path) at every frame; at frame 1, [0.5, 0.5, -1].
    expect(Array.from(grad.subarray(3, 6))).toEqual([0.5, 0.5, -1]);
  });
});

describe('ctcForwardBackward precision guards (each case would be silently wrong without its guard)', () => {
  it('a frame whose logits span > 600 goes to log space: the best path uses a probability of e^-750', () => {
    // Label [1], blank 0, 2 frames. Frame 0 logits [-600, -750, 0], frame 1 [0, -200, 0]. The path (1, blank) has
    // log-prob -750 - log(2 + e^-200); the others are below -800 (e^-50 relative: negligible). In float64 e^-750
    // underflows to 0, and a probability-space pass would see only (blank, 1) at about -800, consistently in
    // both directions, so nothing but the logit range reveals it.
    const logits = Float32Array.from([-600, -750, 0, 0, -200, 0]);
    const { loss, grad } = ctcForwardBackward({ logits, shape: [1, 2, 3], labels: [[1]], logitLengths: [2] });
    expect(loss[0]).toBeCloseTo(750 + Math.log(2), 9);
    // Occupancy is 1 on that path: frame 0 grad = softmax - onehot(1) ~ [0, -1, 1]; frame 1 ~ [0.5 - 1, 0, 0.5].
    expect(maxAbsDiff(grad, [0, -1, 1, -0.5, 0, 0.5])).toBeLessThan(1e-7);
  });

  it('a dominant path through a flushed state (relative weight 1e-174 at frame 1) is caught by the consistency check', () => {
    // Label [1], blank 0, classes 3. Frame 1 makes 'still nothing emitted' (state 0) e^-400 times less likely than
    // the rest, below the flush threshold 1e-150; frames 2 and 3 make every path that emitted the 1 early cost at
    // least e^-500, while state 0 continues with blank, 1 at almost no cost: that path dominates by ~e^100.
    const logits = Float32Array.from([0, 0, 0, -400, 0, 0, 0, -500, 0, -590, 0, -590]);
    const ref = ctcBruteForce(logits, 4, 3, [1], 0);
    expect(ref.loss).toBeGreaterThan(400);
    const { loss, grad } = ctcForwardBackward({ logits, shape: [1, 4, 3], labels: [[1]], logitLengths: [4] });
    expect(loss[0]).toBeCloseTo(ref.loss, 9);
    expect(maxAbsDiff(grad, ref.grad)).toBeLessThan(1e-6);
  });
});

describe('ctcForwardBackward when every path is unlikely at one frame', () => {
  it('a frame where a class outside the label is 400 above all the lattice classes (scale e^-400 for every state)', () => {
    // Label [1], blank 0, classes 4. At frame 1 class 3 (not in the lattice) dominates by 400, so every state's
    // forward value drops by ~e^-400 ~ 1e-174 relative to frame 0, below the flush threshold: the sample is still
    // exact (by the fast path or the log-space one); loss ~400.
    const logits = Float32Array.from([0.5, 0, -1, 0, 0, 0.3, 0, 400, 1, -0.5, 0, 0, 0, 2, 0, 0]);
    const ref = ctcBruteForce(logits, 4, 4, [1], 0);
    expect(ref.loss).toBeGreaterThan(399);
    const { loss, grad } = ctcForwardBackward({ logits, shape: [1, 4, 4], labels: [[1]], logitLengths: [4] });
    expect(loss[0]).toBeCloseTo(ref.loss, 9);
    expect(maxAbsDiff(grad, ref.grad)).toBeLessThan(1e-6);
  });
});

describe('ctcForwardBackward with -Infinity logits (masked classes)', () => {
  it('matches brute force, and a label that needs a masked class is infeasible (+Infinity, zero gradient)', () => {
    const rng = new Rng(12);
    const [T, C] = [5, 4];
    const logits = randomLogits(rng, T * C);
    for (let t = 0; t < T; t++) logits[t * C + 3] = -Infinity; // class 3 never emitted
    logits[2 * C + 1] = -Infinity; // class 1 masked at frame 2
    const ref = ctcBruteForce(logits, T, C, [1, 2, 1], 0);
    const got = ctcForwardBackward({ logits, shape: [1, T, C], labels: [[1, 2, 1]], logitLengths: [T] });
    expect(got.loss[0]).toBeCloseTo(ref.loss, 9);
    expect(maxAbsDiff(got.grad, ref.grad)).toBeLessThan(1e-6);
    const masked = ctcForwardBackward({ logits, shape: [1, T, C], labels: [[3]], logitLengths: [T] });
    expect(masked.loss[0]).toBe(Infinity);
    expect(masked.grad.every((g) => g === 0)).toBe(true);
  });
});

describe('ctcForwardBackward bad input', () => {
  const base = { logits: new Float32Array(2 * 3 * 4), shape: [2, 3, 4] as const, logitLengths: [3, 3] };
  const cases: Array<[string, Partial<Parameters<typeof ctcForwardBackward>[0]>, RegExp]> = [
    [
      'label out of range',
      { labels: [[1], [2, 4]] },
      /labels: sample 1, position 1 has value 4; expected an integer label in \[0, 4\) other than the blank \(0\)/,
    ],
    ['label equal to blank', { labels: [[1], [0]] }, /labels: sample 1, position 0 has value 0/],
    ['non-integer label', { labels: [[1.5], [1]] }, /labels: sample 0, position 0 has value 1.5/],
    ['negative label', { labels: [[1], [-1]] }, /labels: sample 1, position 0 has value -1/],
    [
      'length past the tensor',
      { labels: [[1], [1]], logitLengths: [3, 4] },
      /logitLengths: sample 1 has length 4; expected an integer in \[0, 3\]/,
    ],
    ['negative length', { labels: [[1], [1]], logitLengths: [-1, 3] }, /logitLengths: sample 0 has length -1/],
    ['batch mismatch', { labels: [[1]] }, /labels: has 1 samples; expected 2/],
    [
      'lengths count mismatch',
      { labels: [[1], [1]], logitLengths: [3] },
      /logitLengths: has 1 entries; expected one per sample \(batch 2\)/,
    ],
    [
      'blank out of range',
      { labels: [[1], [1]], blank: 4 },
      /blank: 4 is not a class index; expected an integer in \[0, 4\)/,
    ],
    [
      'shape mismatch',
      { labels: [[1], [1]], shape: [2, 3, 5] },
      /logits: data has 24 values but shape \[2, 3, 5\] needs 30/,
    ],
  ];
  for (const [name, patch, message] of cases) {
    it(`rejects ${name}`, () => {
      expect(() => ctcForwardBackward({ ...base, labels: [], ...patch })).toThrow(message);
    });
  }
});
