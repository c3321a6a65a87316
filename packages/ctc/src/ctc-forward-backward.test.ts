import { Rng } from '@scriptorium/runtime';
import { describe, expect, it } from 'vitest';
import { ctcBruteForce } from './ctc-brute-force.js';
import { ctcForward, ctcForwardBackward } from './ctc-forward-backward.js';
import { ctcLogSpace } from './ctc-log-space.js';
import { logSoftmaxRows } from './log-softmax.js';
import { maxAbsDiff, randomLabel, randomLogits } from './test-util.js';

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
