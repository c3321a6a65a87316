import { extendLabel } from './extended-label.js';

/**
 * Buffers sized for the largest sample, reused across samples and calls: no allocation inside the lattice loops, and
 * none per training step once the shapes repeat. Between samples, `classIndex` holds -1 and `occ` 0 everywhere;
 * everything else is written before it is read.
 * The lattice of a label has S = 2L + 1 states and K <= L + 1 distinct classes, k = 0 being the blank.
 */
export class Workspace {
  /** The last workspace made: the next call reuses it when it is big enough. */
  private static last: Workspace | null = null;

  static atLeast(time: number, classes: number, maxLabel: number): Workspace {
    const w = Workspace.last;
    if (w && w.time >= time && w.classes >= classes && w.maxLabel >= maxLabel) return w;
    Workspace.last = new Workspace(time, classes, maxLabel);
    return Workspace.last;
  }

  readonly row: Float64Array; // [classes] one frame's exp(logit - max)
  readonly emission: Float64Array; // [time, K] softmax of the lattice's classes
  readonly alpha: Float64Array; // [time, S + 2] scaled forward variables; state s at 2 + s, entries 0 and 1 stay 0
  readonly alphaLog: Float64Array; // [time] log of the scale of alpha's row t: sum of the logs of rows 0..t-1's sums
  readonly ext: Int32Array; // [S + 2] class of each state
  readonly stateClass: Int32Array; // [S + 2] lattice class k of each state
  readonly skip: Float64Array; // [S + 2] 1 (a float, to multiply by) where the skip move s-2 -> s is allowed
  readonly latticeClasses: Int32Array; // [K] class of each lattice class, blank first
  readonly classIndex: Int32Array; // [classes] lattice class of each class, -1 outside the lattice (between samples)
  beta: Float64Array; // [S + 2]
  betaNext: Float64Array; // [S + 2]
  readonly occ: Float64Array; // [K] occupancy per lattice class at one frame, kept at 0 between frames

  private constructor(
    readonly time: number,
    readonly classes: number,
    readonly maxLabel: number,
  ) {
    const states = 2 * maxLabel + 1;
    const k = maxLabel + 1;
    this.row = new Float64Array(classes);
    this.emission = new Float64Array(time * k);
    this.alpha = new Float64Array(time * (states + 2));
    this.alphaLog = new Float64Array(time);
    this.ext = new Int32Array(states + 2);
    this.stateClass = new Int32Array(states + 2);
    this.skip = new Float64Array(states + 2);
    this.latticeClasses = new Int32Array(k);
    this.classIndex = new Int32Array(classes).fill(-1);
    this.beta = new Float64Array(states + 2);
    this.betaNext = new Float64Array(states + 2);
    this.occ = new Float64Array(k);
  }
}

/** Fills ext, skip, stateClass and latticeClasses for `label`; returns K, the number of distinct classes (blank first). */
export function buildLattice(label: ArrayLike<number>, blank: number, ws: Workspace): number {
  const { ext, stateClass, latticeClasses, classIndex } = ws;
  const S = extendLabel(label, blank, ext, ws.skip);
  let K = 0;
  for (let s = 0; s < S + 2; s++) {
    const c = ext[s];
    if (classIndex[c] < 0) {
      classIndex[c] = K;
      latticeClasses[K++] = c;
    }
    stateClass[s] = classIndex[c];
  }
  for (let k = 0; k < K; k++) classIndex[latticeClasses[k]] = -1;
  return K;
}
