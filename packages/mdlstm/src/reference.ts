import { scalarActivation } from './activations.js';
import { CELL_DEFAULTS, flipsOf, GATES, type CellOptions, type Direction } from './config.js';

/** Float64 weights in the layout documented in config.ts. */
export interface ReferenceWeights {
  kernel: Float64Array; // [nDir, C, 5U]
  recurrentKernel: Float64Array; // [nDir, 2U, 5U]
  bias: Float64Array; // [nDir, 5U]
  peephole?: Float64Array; // [nDir, 5, U]
}

export interface ReferenceInput {
  x: Float64Array; // [B, H, W, C]
  shape: [batch: number, height: number, width: number, channels: number];
  units: number;
  directions: readonly Direction[];
  weights: ReferenceWeights;
  /** [B, H, W], 1 = valid, 0 = padding (treated as outside the image). Default: all valid. */
  mask?: Float64Array;
  cell?: CellOptions;
}

export interface ReferenceResult {
  /** Hidden states per direction, in the original (unflipped) frame: [nDir, B, H, W, U]. */
  h: Float64Array;
  /** Cell states, same layout. */
  c: Float64Array;
  /** Gate activations [nDir, B, H, W, 5U] (i, f_y, f_x, o, g after their activations) and pre-activations; for the backward pass. */
  gates: Float64Array;
  pre: Float64Array;
  input: ReferenceInput;
}

export interface ReferenceGradients {
  dx: Float64Array;
  kernel: Float64Array;
  recurrentKernel: Float64Array;
  bias: Float64Array;
  peephole?: Float64Array;
}

/** The cells of one direction in scan order, as original-frame coordinates and predecessor offsets. */
function scanOrder(d: Direction, H: number, W: number) {
  const { flipY, flipX } = flipsOf(d);
  const cells: Array<[number, number]> = [];
  for (let a = 0; a < H; a++) for (let b = 0; b < W; b++) cells.push([flipY ? H - 1 - a : a, flipX ? W - 1 - b : b]);
  return { cells, dy: flipY ? -1 : 1, dx: flipX ? -1 : 1 };
}

/**
 * The slow, obvious MDLSTM: one cell at a time, float64, straight from the equations
 *   a = W x(i,j) + U_y h_y + U_x h_x + b        (+ peepholes)
 *   c = i*g + s*(f_y*c_y + f_x*c_x)              s = 1/2 when bounded, else 1
 *   h = o*act(c)
 * with h and c of predecessors outside the image or at masked positions equal to zero, and h = c = 0 at masked positions.
 * The oracle for the fast wavefront op.
 */
export function mdlstmReference(input: ReferenceInput): ReferenceResult {
  const [B, H, W, C] = input.shape;
  const U = input.units,
    G = GATES * U,
    D = input.directions.length;
  const cell = { ...CELL_DEFAULTS, ...input.cell };
  const act = scalarActivation[cell.activation],
    rec = scalarActivation[cell.recurrentActivation];
  const s = cell.bounded ? 0.5 : 1;
  const { kernel, recurrentKernel, bias, peephole } = input.weights;
  const h = new Float64Array(D * B * H * W * U),
    c = new Float64Array(h.length);
  const gates = new Float64Array(D * B * H * W * G),
    pre = new Float64Array(gates.length);
  const at = (dir: number, b: number, i: number, j: number) => ((dir * B + b) * H + i) * W + j;

  input.directions.forEach((d, dir) => {
    const { cells, dy, dx } = scanOrder(d, H, W);
    for (let b = 0; b < B; b++) {
      for (const [i, j] of cells) {
        const pos = at(dir, b, i, j);
        if (input.mask && input.mask[(b * H + i) * W + j] === 0) continue; // h = c = 0
        const py = i - dy,
          px = j - dx;
        const hasY = py >= 0 && py < H,
          hasX = px >= 0 && px < W;
        const yPos = hasY ? at(dir, b, py, j) : -1,
          xPos = hasX ? at(dir, b, i, px) : -1;
        const a = pre.subarray(pos * G, pos * G + G);
        for (let k = 0; k < G; k++) {
          let v = bias[dir * G + k]!;
          for (let ch = 0; ch < C; ch++)
            v += input.x[((b * H + i) * W + j) * C + ch]! * kernel[(dir * C + ch) * G + k]!;
          for (let u = 0; u < U; u++) {
            if (hasY) v += h[yPos * U + u]! * recurrentKernel[(dir * 2 * U + u) * G + k]!;
            if (hasX) v += h[xPos * U + u]! * recurrentKernel[(dir * 2 * U + U + u) * G + k]!;
          }
          a[k] = v;
        }
        const z = gates.subarray(pos * G, pos * G + G);
        for (let u = 0; u < U; u++) {
          const cy = hasY ? c[yPos * U + u]! : 0,
            cx = hasX ? c[xPos * U + u]! : 0;
          const p = (row: number) => (peephole ? peephole[(dir * 5 + row) * U + u]! : 0);
          a[u] = a[u]! + p(0) * cy + p(1) * cx;
          a[U + u] = a[U + u]! + p(2) * cy;
          a[2 * U + u] = a[2 * U + u]! + p(3) * cx;
          const ig = rec.f(a[u]!),
            fy = rec.f(a[U + u]!),
            fx = rec.f(a[2 * U + u]!),
            g = act.f(a[4 * U + u]!);
          const cc = ig * g + s * (fy * cy + fx * cx);
          a[3 * U + u] = a[3 * U + u]! + p(4) * cc;
          const o = rec.f(a[3 * U + u]!);
          z[u] = ig;
          z[U + u] = fy;
          z[2 * U + u] = fx;
          z[3 * U + u] = o;
          z[4 * U + u] = g;
          c[pos * U + u] = cc;
          h[pos * U + u] = o * act.f(cc);
        }
      }
    }
  });
  return { h, c, gates, pre, input };
}

/** Backpropagation through the reference: gradients of sum(dh * h) w.r.t. x and every weight. */
export function mdlstmReferenceBackward(fwd: ReferenceResult, dhOut: Float64Array): ReferenceGradients {
  const { input, h, c, gates, pre } = fwd;
  const [B, H, W, C] = input.shape;
  const U = input.units,
    G = GATES * U;
  const cell = { ...CELL_DEFAULTS, ...input.cell };
  const act = scalarActivation[cell.activation],
    rec = scalarActivation[cell.recurrentActivation];
  const s = cell.bounded ? 0.5 : 1;
  const { kernel, recurrentKernel, peephole } = input.weights;
  const grads: ReferenceGradients = {
    dx: new Float64Array(input.x.length),
    kernel: new Float64Array(kernel.length),
    recurrentKernel: new Float64Array(recurrentKernel.length),
    bias: new Float64Array(input.weights.bias.length),
    peephole: peephole ? new Float64Array(peephole.length) : undefined,
  };
  const dh = Float64Array.from(dhOut),
    dc = new Float64Array(c.length);
  const at = (dir: number, b: number, i: number, j: number) => ((dir * B + b) * H + i) * W + j;
  const da = new Float64Array(G);

  input.directions.forEach((d, dir) => {
    const { cells, dy, dx } = scanOrder(d, H, W);
    for (let b = 0; b < B; b++) {
      for (let n = cells.length - 1; n >= 0; n--) {
        const [i, j] = cells[n]!;
        if (input.mask && input.mask[(b * H + i) * W + j] === 0) continue;
        const pos = at(dir, b, i, j);
        const py = i - dy,
          px = j - dx;
        const hasY = py >= 0 && py < H,
          hasX = px >= 0 && px < W;
        const yPos = hasY ? at(dir, b, py, j) : -1,
          xPos = hasX ? at(dir, b, i, px) : -1;
        const z = gates.subarray(pos * G, pos * G + G),
          a = pre.subarray(pos * G, pos * G + G);
        for (let u = 0; u < U; u++) {
          const cy = hasY ? c[yPos * U + u]! : 0,
            cx = hasX ? c[xPos * U + u]! : 0;
          const ig = z[u]!,
            fy = z[U + u]!,
            fx = z[2 * U + u]!,
            o = z[3 * U + u]!,
            g = z[4 * U + u]!;
          const cc = c[pos * U + u]!,
            tc = act.f(cc);
          const p = (row: number) => (peephole ? peephole[(dir * 5 + row) * U + u]! : 0);
          const dhv = dh[pos * U + u]!;
          const dao = dhv * tc * rec.df(a[3 * U + u]!, o);
          const dct = dc[pos * U + u]! + dhv * o * act.df(cc, tc) + dao * p(4);
          const dai = dct * g * rec.df(a[u]!, ig);
          const dag = dct * ig * act.df(a[4 * U + u]!, g);
          const dafy = dct * s * cy * rec.df(a[U + u]!, fy);
          const dafx = dct * s * cx * rec.df(a[2 * U + u]!, fx);
          da[u] = dai;
          da[U + u] = dafy;
          da[2 * U + u] = dafx;
          da[3 * U + u] = dao;
          da[4 * U + u] = dag;
          if (peephole) {
            const gp = grads.peephole!;
            gp[(dir * 5 + 0) * U + u] = gp[(dir * 5 + 0) * U + u]! + dai * cy;
            gp[(dir * 5 + 1) * U + u] = gp[(dir * 5 + 1) * U + u]! + dai * cx;
            gp[(dir * 5 + 2) * U + u] = gp[(dir * 5 + 2) * U + u]! + dafy * cy;
            gp[(dir * 5 + 3) * U + u] = gp[(dir * 5 + 3) * U + u]! + dafx * cx;
            gp[(dir * 5 + 4) * U + u] = gp[(dir * 5 + 4) * U + u]! + dao * cc;
          }
          if (hasY) dc[yPos * U + u] = dc[yPos * U + u]! + dct * s * fy + dai * p(0) + dafy * p(2);
          if (hasX) dc[xPos * U + u] = dc[xPos * U + u]! + dct * s * fx + dai * p(1) + dafx * p(3);
        }
        const xOff = ((b * H + i) * W + j) * C;
        for (let k = 0; k < G; k++) {
          const g = da[k]!;
          grads.bias[dir * G + k] = grads.bias[dir * G + k]! + g;
          for (let ch = 0; ch < C; ch++) {
            grads.kernel[(dir * C + ch) * G + k] = grads.kernel[(dir * C + ch) * G + k]! + input.x[xOff + ch]! * g;
            grads.dx[xOff + ch] = grads.dx[xOff + ch]! + kernel[(dir * C + ch) * G + k]! * g;
          }
          for (let u = 0; u < U; u++) {
            const ry = (dir * 2 * U + u) * G + k,
              rx = (dir * 2 * U + U + u) * G + k;
            if (hasY) {
              grads.recurrentKernel[ry] = grads.recurrentKernel[ry]! + h[yPos * U + u]! * g;
              dh[yPos * U + u] = dh[yPos * U + u]! + recurrentKernel[ry]! * g;
            }
            if (hasX) {
              grads.recurrentKernel[rx] = grads.recurrentKernel[rx]! + h[xPos * U + u]! * g;
              dh[xPos * U + u] = dh[xPos * U + u]! + recurrentKernel[rx]! * g;
            }
          }
        }
      }
    }
  });
  return grads;
}
