import { Rng } from '@scriptorium/runtime';
import { describe, expect, it } from 'vitest';
import { ctcBruteForce } from './ctc-brute-force.js';
import { ctcForward, ctcForwardBackward } from './ctc-forward-backward.js';
import { ctcLogSpace } from './ctc-log-space.js';
import { logSoftmaxRows } from './log-softmax.js';

function randomLogits(rng: Rng, n: number, scale = 2): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal() * scale);
}

function randomLabel(rng: Rng, length: number, classes: number, blank: number): number[] {
  return Array.from({ length }, () => {
    const v = rng.int(classes - 1); // 0 .. classes-2, then shift past the blank
    return v >= blank ? v + 1 : v;
  });
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('ctcForwardBackward against brute force over all alignments', () => {
  it('matches loss and gradient for T <= 6, classes <= 4, labels 0..3 (repeats included), blank first/middle/last', () => {
    const rng = new Rng(11);
    let compared = 0;
    for (let T = 1; T <= 6; T++) {
      for (let C = 2; C <= 4; C++) {
        for (const blank of new Set([0, C - 1, C >> 1])) {
          for (let L = 0; L <= Math.min(3, T); L++) {
            const logits = randomLogits(rng, T * C);
            const label = randomLabel(rng, L, C, blank);
            const ref = ctcBruteForce(logits, T, C, label, blank);
            const got = ctcForwardBackward({ logits, shape: [1, T, C], labels: [label], logitLengths: [T], blank });
            if (ref.loss === Infinity) {
              expect(got.loss[0]).toBe(Infinity);
              expect(got.grad.every((g) => g === 0)).toBe(true);
            } else {
              expect(got.loss[0]).toBeCloseTo(ref.loss, 9);
              expect(maxAbsDiff(got.grad, ref.grad)).toBeLessThan(1e-6);
              compared++;
            }
          }
        }
      }
    }
    expect(compared).toBeGreaterThan(100);
  });

  it('handles repeated labels: [1,1] needs 3 frames (a blank between), [1,2] needs 2', () => {
    const rng = new Rng(2);
    for (const [label, T] of [
      [[1, 1], 3],
      [[1, 1], 4],
      [[2, 2, 2], 5],
      [[1, 2, 1], 3],
    ] as const) {
      const logits = randomLogits(rng, T * 3);
      const ref = ctcBruteForce(logits, T, 3, label as unknown as number[], 0);
      const got = ctcForwardBackward({ logits, shape: [1, T, 3], labels: [label], logitLengths: [T] });
      expect(got.loss[0]).toBeCloseTo(ref.loss, 9);
      expect(maxAbsDiff(got.grad, ref.grad)).toBeLessThan(1e-6);
    }
  });

  it('the log-space reference agrees with brute force too', () => {
    const rng = new Rng(5);
    for (let k = 0; k < 20; k++) {
      const T = 1 + rng.int(6),
        C = 2 + rng.int(3),
        blank = rng.int(C);
      const label = randomLabel(rng, rng.int(Math.min(T, 3) + 1), C, blank);
      const logits = randomLogits(rng, T * C);
      const logProbs = new Float64Array(T * C);
      logSoftmaxRows(logits, 0, T, C, logProbs);
      const grad = new Float32Array(T * C);
      const ref = ctcBruteForce(logits, T, C, label, blank);
      const loss = ctcLogSpace(logProbs, T, C, label, blank, grad);
      if (ref.loss === Infinity) expect(loss).toBe(Infinity);
      else {
        expect(loss).toBeCloseTo(ref.loss, 9);
        expect(maxAbsDiff(grad, ref.grad)).toBeLessThan(1e-6);
      }
    }
  });
});

/** Loss and gradient of every sample by the float64 log-space reference, the slow obvious path. */
function logSpaceReference(
  logits: Float32Array,
  [B, T, C]: readonly [number, number, number],
  labels: number[][],
  logitLengths: number[],
  blank: number,
): { loss: number[]; grad: Float32Array } {
  const grad = new Float32Array(B * T * C);
  const loss = labels.map((label, b) => {
    const frames = logitLengths[b]!;
    const logProbs = new Float64Array(frames * C);
    logSoftmaxRows(logits, b * T * C, frames, C, logProbs);
    const l = ctcLogSpace(logProbs, frames, C, label, blank, grad, b * T * C);
    if (l === Infinity) grad.fill(0, b * T * C, (b + 1) * T * C);
    return l;
  });
  return { loss, grad };
}

describe('ctcForwardBackward (scaled fast path) against the float64 log-space reference', () => {
  // Each case is one call on a random batch; calls of different sizes follow each other, so the buffers reused
  // across calls are exercised growing and shrinking. Losses agree to 1e-9 relative, gradients to 1e-6.
  const cases: Array<[name: string, B: number, T: number, C: number, maxLabel: number, blank: number]> = [
    ['odd shapes, blank 0', 3, 17, 7, 6, 0],
    ['a label of every class (K = C), blank last', 2, 40, 5, 15, 4],
    ['long labels in few classes (many repeats), blank in the middle', 4, 33, 3, 12, 1],
    ['one frame', 3, 1, 6, 1, 0],
    ['the shapes of the benchmark, smaller', 2, 64, 80, 20, 0],
    ['odd shapes again, after a bigger call', 3, 9, 4, 4, 2],
  ];
  for (const [name, B, T, C, maxLabel, blank] of cases) {
    it(`${name}: [${B}, ${T}, ${C}], labels up to ${maxLabel}, padding, empty and infeasible labels`, () => {
      const rng = new Rng(B * 1000 + T * 10 + C);
      const logits = randomLogits(rng, B * T * C, 3);
      const labels: number[][] = [];
      const logitLengths: number[] = [];
      for (let b = 0; b < B; b++) {
        logitLengths.push(b === 0 ? T : rng.int(T + 1)); // sample 0 uses every frame, the others fewer (padding)
        labels.push(b === 1 ? [] : randomLabel(rng, rng.int(maxLabel + 1), C, blank)); // sample 1: empty label
      }
      const shape = [B, T, C] as const;
      const got = ctcForwardBackward({ logits, shape, labels, logitLengths, blank });
      const ref = logSpaceReference(logits, shape, labels, logitLengths, blank);
      for (let b = 0; b < B; b++) {
        if (ref.loss[b] === Infinity) expect(got.loss[b]).toBe(Infinity);
        else expect(Math.abs(got.loss[b]! - ref.loss[b]!) / Math.max(1, ref.loss[b]!)).toBeLessThan(1e-9);
      }
      expect(maxAbsDiff(got.grad, ref.grad)).toBeLessThan(1e-6);
      expect(Array.from(ctcForward({ logits, shape, labels, logitLengths, blank }))).toEqual(Array.from(got.loss));
    });
  }

  it('labels that need every frame (T = required frames: a band of one or two states per frame)', () => {
    const rng = new Rng(21);
    const labels = [
      [1, 2, 3, 4],
      [1, 1, 2, 2],
      [3, 3, 3],
    ]; // need 4, 6 and 5 frames
    const logitLengths = [4, 6, 5];
    const shape = [3, 6, 5] as const;
    const logits = randomLogits(rng, 3 * 6 * 5);
    const got = ctcForwardBackward({ logits, shape, labels, logitLengths });
    const ref = logSpaceReference(logits, shape, labels, logitLengths, 0);
    for (let b = 0; b < 3; b++) expect(got.loss[b]).toBeCloseTo(ref.loss[b]!, 9);
    expect(maxAbsDiff(got.grad, ref.grad)).toBeLessThan(1e-6);
  });

  it('a class outside the label may lie 1000 below the others: no fallback needed, its gradient is 0', () => {
    // Class 3 is not in the label [1, 2]: its probability e^-1000 underflows, which changes nothing else.
    const rng = new Rng(22);
    const [T, C] = [6, 4];
    const logits = randomLogits(rng, T * C);
    for (let t = 0; t < T; t++) logits[t * C + 3] = -1000;
    const got = ctcForwardBackward({ logits, shape: [1, T, C], labels: [[1, 2]], logitLengths: [T] });
    const ref = ctcBruteForce(logits, T, C, [1, 2], 0);
    expect(got.loss[0]).toBeCloseTo(ref.loss, 9);
    expect(maxAbsDiff(got.grad, ref.grad)).toBeLessThan(1e-6);
    for (let t = 0; t < T; t++) expect(got.grad[t * C + 3]).toBe(0);
  });
});

describe('ctcForwardBackward gradient by finite differences', () => {
  it('matches central differences of the float64 loss on a random batch', () => {
    const rng = new Rng(3);
    const [B, T, C] = [2, 12, 5];
    const logits = Float64Array.from({ length: B * T * C }, () => rng.normal() * 1.5);
    const labels = [
      [1, 2, 2, 4],
      [3, 1, 3],
    ];
    const logitLengths = [12, 9];
    const opts = { shape: [B, T, C] as const, labels, logitLengths };
    const { grad } = ctcForwardBackward({ logits, ...opts });
    const h = 1e-5;
    for (let i = 0; i < logits.length; i++) {
      const b = Math.floor(i / (T * C));
      const saved = logits[i]!;
      logits[i] = saved + h;
      const up = ctcForward({ logits, ...opts })[b]!;
      logits[i] = saved - h;
      const down = ctcForward({ logits, ...opts })[b]!;
      logits[i] = saved;
      expect(Math.abs(grad[i]! - (up - down) / (2 * h))).toBeLessThan(2e-6);
    }
  });
});

describe("Graves' two-sample example (TensorFlow ctc_loss_op_test testBasic)", () => {
  // Inputs are log-probabilities (log-softmax leaves them unchanged up to rounding), blank is the last class (5),
  // both samples use 5 of 7 frames and the last 2 frames are NaN. Published: log p = -3.34211 and -5.42262, and the
  // gradients below (softmax minus occupancy), from Alex Graves' implementation.
  const probs = [
    [
      [0.633766, 0.221185, 0.0917319, 0.0129757, 0.0142857, 0.0260553],
      [0.111121, 0.588392, 0.278779, 0.0055756, 0.00569609, 0.010436],
      [0.0357786, 0.633813, 0.321418, 0.00249248, 0.00272882, 0.0037688],
      [0.0663296, 0.643849, 0.280111, 0.00283995, 0.0035545, 0.00331533],
      [0.458235, 0.396634, 0.123377, 0.00648837, 0.00903441, 0.00623107],
    ],
    [
      [0.30176, 0.28562, 0.0831517, 0.0862751, 0.0816851, 0.161508],
      [0.24082, 0.397533, 0.0557226, 0.0546814, 0.0557528, 0.19549],
      [0.230246, 0.450868, 0.0389607, 0.038309, 0.0391602, 0.202456],
      [0.280884, 0.429522, 0.0326593, 0.0339046, 0.0326856, 0.190345],
      [0.423286, 0.315517, 0.0338439, 0.0393744, 0.0339315, 0.154046],
    ],
  ];
  const expectedGrad = [
    [
      [-0.366234, 0.221185, 0.0917319, 0.0129757, 0.0142857, 0.0260553],
      [0.111121, -0.411608, 0.278779, 0.0055756, 0.00569609, 0.010436],
      [0.0357786, 0.633813, -0.678582, 0.00249248, 0.00272882, 0.0037688],
      [0.0663296, -0.356151, 0.280111, 0.00283995, 0.0035545, 0.00331533],
      [-0.541765, 0.396634, 0.123377, 0.00648837, 0.00903441, 0.00623107],
    ],
    [
      [-0.69824, 0.28562, 0.0831517, 0.0862751, 0.0816851, 0.161508],
      [0.24082, -0.602467, 0.0557226, 0.0546814, 0.0557528, 0.19549],
      [0.230246, 0.450868, 0.0389607, 0.038309, 0.0391602, -0.797544],
      [0.280884, -0.570478, 0.0326593, 0.0339046, 0.0326856, 0.190345],
      [-0.576714, 0.315517, 0.0338439, 0.0393744, 0.0339315, 0.154046],
    ],
  ];
  const [B, T, C] = [2, 7, 6];

  it('reproduces the published losses and gradients, with zero gradient on the NaN frames', () => {
    const logits = new Float32Array(B * T * C).fill(NaN);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < 5; t++) for (let c = 0; c < C; c++) logits[(b * T + t) * C + c] = Math.log(probs[b]![t]![c]!);
    }
    const { loss, grad } = ctcForwardBackward({
      logits,
      shape: [B, T, C],
      labels: [
        [0, 1, 2, 1, 0],
        [0, 1, 1, 0],
      ],
      logitLengths: [5, 5],
      blank: 5,
    });
    expect(loss[0]).toBeCloseTo(3.34211, 5);
    expect(loss[1]).toBeCloseTo(5.42262, 5);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        for (let c = 0; c < C; c++) {
          const g = grad[(b * T + t) * C + c]!;
          if (t >= 5) expect(g).toBe(0);
          else expect(Math.abs(g - expectedGrad[b]![t]![c]!)).toBeLessThan(2e-6);
        }
      }
    }
  });
});

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
