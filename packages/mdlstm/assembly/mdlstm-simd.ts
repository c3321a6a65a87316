// The MDLSTM scan, forward and backward, in WebAssembly SIMD (AssemblyScript; built by `npm run build:wasm`
// into src/kernels/mdlstm-simd-wasm.ts). JavaScript glue: src/kernels/mdlstm-simd.ts.
//
// Vectorised over the directions: lane d of every f32x4 is direction d (up to four; spare lanes carry zero
// weights). Each direction scans its own flipped frame from the top-left, so all four process cell (ii, jj)
// of their frame at the same time, whatever the number of units (Pham et al.'s first layer has 2).
//
// All buffers live in this module's memory at offsets the glue chooses (setPointers); nothing is allocated
// here. Vectors (v128, one lane per direction):
//   w     [G][I]   gate weights; I = C + 2U inputs per cell: the C channels, then h_y (U), then h_x (U)
//   wt    [I][G]   the same, transposed (the backward pass's products run over the gates)
//   bias  [G]      peep [5][U] (input<-c_y, input<-c_x, forget_y<-c_y, forget_x<-c_x, output<-c)
//   h, c  [B][H+1][W+1][U]  states in the scan frame with a zero row and column in front, so that the
//                           predecessors of the first row and column need no test
//   z     [B][H][W][G]      gate activations (input, forget_y, forget_x, output, candidate), for backward
//   dh,dc [B][H+1][W+1][U]  gradient accumulators; gw, gb, gp as w, bias, peep
// Floats, in the original (unflipped) frame:
//   x [B][H][W][C], mask [B][H][W] (0 = padded), gx [B][H][W][C],
//   hc [2][B][H][W][D][U]: forward, h and c out (c only when asked); backward, their gradients in.
// A padded cell (mask 0) has h = c = 0, so it acts as a missing predecessor; backward, its incoming gradient
// is zeroed, so it passes nothing on.
//
// One file of about 430 lines, over the codebase's 400-line target on purpose (a kernel kept whole, as llm.c
// keeps its kernels): forward and backward share the module's state (the shape, options and buffer offsets
// below), the layout and the activations, and no function is over 100 lines. Its reference is the float64
// cell-by-cell scan (src/reference.ts), which src/kernels/mdlstm-simd.test.ts and src/mdlstm-op.test.ts
// compare it with.

// ---- activations (f32x4) ----
//
// exp by range reduction: x = n ln2 + r with |r| <= ln2 / 2, e^r by its Taylor polynomial to degree 7
// (remainder below 6e-9 relative), 2^n by building the float's exponent bits. Inputs are clamped to
// [-87, 88] so that 2^n stays a normal float. Errors measured against Math: src/kernels/mdlstm-simd.test.ts.

const LOG2E: f32 = 1.44269504;
const LN2_HI: f32 = 0.693145752; // ln 2 split so that n * LN2_HI is exact for |n| < 256
const LN2_LO: f32 = 1.42860677e-6;

// @ts-ignore: decorator
@inline function vexp(x: v128): v128 {
  x = f32x4.min(f32x4.max(x, f32x4.splat(-87.0)), f32x4.splat(88.0));
  const n = f32x4.nearest(f32x4.mul(x, f32x4.splat(LOG2E)));
  const r = f32x4.sub(f32x4.sub(x, f32x4.mul(n, f32x4.splat(LN2_HI))), f32x4.mul(n, f32x4.splat(LN2_LO)));
  let p = f32x4.splat(1.0 / 5040.0);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0 / 720.0));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0 / 120.0));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0 / 24.0));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0 / 6.0));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(0.5));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0));
  const pow2n = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return f32x4.mul(p, pow2n);
}

// @ts-ignore: decorator
@inline function vsigmoid(a: v128): v128 {
  const one = f32x4.splat(1.0);
  return f32x4.div(one, f32x4.add(one, vexp(f32x4.neg(a))));
}

/** tanh|a| = (1 - e^-2|a|) / (1 + e^-2|a|), with a's sign put back (no overflow for any a). */
// @ts-ignore: decorator
@inline function vtanh(a: v128): v128 {
  const one = f32x4.splat(1.0);
  const t = vexp(f32x4.mul(f32x4.abs(a), f32x4.splat(-2.0)));
  const m = f32x4.div(f32x4.sub(one, t), f32x4.add(one, t));
  const sign = v128.and(a, i32x4.splat(0x80000000));
  return v128.or(m, sign);
}

/** For the tests: applies vexp (kind 0), vsigmoid (1) or vtanh (2) to n floats at src (n a multiple of 4). */
export function activate(kind: i32, src: usize, dst: usize, n: i32): void {
  for (let k = 0; k < n; k += 4) {
    const v = load<v128>(src + (<usize>k << 2));
    const y = kind == 0 ? vexp(v) : kind == 1 ? vsigmoid(v) : vtanh(v);
    store<v128>(dst + (<usize>k << 2), y);
  }
}

// ---- shape, options and buffers ----

let B: i32 = 0, H: i32 = 0, W: i32 = 0, C: i32 = 0, U: i32 = 0, D: i32 = 0, G: i32 = 0, I: i32 = 0;
let forgetScale: f32 = 1; // 0.5 for the bounded cell
let hasMask: bool = false, hasPeep: bool = false;
// Whether c goes out too (forward) and comes back with a gradient (backward): only for the layer's final states.
let withC: bool = false;
// Per lane (direction): where its scan frame's cell (0, 0) lies and how a step down or right moves in the original frame.
let laneOffset: v128 = i32x4.splat(0), laneRowStep: v128 = i32x4.splat(0), laneColStep: v128 = i32x4.splat(0);

let pW: usize = 0, pWT: usize = 0, pBias: usize = 0, pPeep: usize = 0, pX: usize = 0, pMask: usize = 0;
let pH: usize = 0, pC: usize = 0, pZ: usize = 0, pHC: usize = 0, pGX: usize = 0;
let pGW: usize = 0, pGB: usize = 0, pGP: usize = 0, pDH: usize = 0, pDC: usize = 0;
// Scratch for the TILE cells in flight: inputs [TILE][I], gate sums or gradients [TILE][G], input gradients [TILE][I].
let pIn: usize = 0, pA: usize = 0, pGin: usize = 0;

/**
 * Samples processed together at each scan position (their cells are independent): one pass over a weight row
 * serves all of them, so that the weights (480 kB for 50 units over 20 channels) are read from memory once per
 * TILE cells rather than per cell, and the four sums give the processor independent work.
 */
const TILE = 4;

/** Sizes and options of the next scan; flip bit d: direction d scans bottom-up (Y) or right-to-left (X). */
export function configure(b: i32, h: i32, w: i32, c: i32, u: i32, d: i32, flipBitsY: i32, flipBitsX: i32, bounded: bool, mask: bool, peep: bool, cOut: bool): void {
  B = b; H = h; W = w; C = c; U = u; D = d; G = 5 * u; I = c + 2 * u;
  forgetScale = bounded ? 0.5 : 1.0;
  hasMask = mask; hasPeep = peep; withC = cOut;
  laneOffset = i32x4.splat(0); laneRowStep = i32x4.splat(w); laneColStep = i32x4.splat(1);
  for (let d = 0; d < 4; d++) {
    const fy = (flipBitsY >> d) & 1, fx = (flipBitsX >> d) & 1;
    const offset = (fy ? (h - 1) * w : 0) + (fx ? w - 1 : 0);
    laneOffset = setLane(laneOffset, d, offset);
    laneRowStep = setLane(laneRowStep, d, fy ? -w : w);
    laneColStep = setLane(laneColStep, d, fx ? -1 : 1);
  }
}

/** v with i32 lane d (not a constant) set to x. */
function setLane(v: v128, d: i32, x: i32): v128 {
  if (d == 0) return i32x4.replace_lane(v, 0, x);
  if (d == 1) return i32x4.replace_lane(v, 1, x);
  if (d == 2) return i32x4.replace_lane(v, 2, x);
  return i32x4.replace_lane(v, 3, x);
}

export function setPointers(
  w: usize, wt: usize, bias: usize, peep: usize, x: usize, mask: usize, h: usize, c: usize, z: usize, hc: usize,
  gx: usize, gw: usize, gb: usize, gp: usize, dh: usize, dc: usize, scratch: usize,
): void {
  pW = w; pWT = wt; pBias = bias; pPeep = peep; pX = x; pMask = mask; pH = h; pC = c; pZ = z; pHC = hc;
  pGX = gx; pGW = gw; pGB = gb; pGP = gp; pDH = dh; pDC = dc;
  pIn = scratch; pA = pIn + (<usize>(TILE * I) << 4); pGin = pA + (<usize>(TILE * G) << 4);
}

/** The heap's start: the glue places its buffers from here on. */
export function heapBase(): usize {
  return __heap_base;
}

// @ts-ignore: decorator
@inline function vec(p: usize, k: i32): v128 {
  return load<v128>(p + (<usize>k << 4));
}

// @ts-ignore: decorator
@inline function setVec(p: usize, k: i32, v: v128): void {
  store<v128>(p + (<usize>k << 4), v);
}

// @ts-ignore: decorator
@inline function addVec(p: usize, k: i32, v: v128): void {
  const q = p + (<usize>k << 4);
  store<v128>(q, f32x4.add(load<v128>(q), v));
}

/**
 * Flat [B, H, W] indices, in the original frame, of cell (b, ii, jj) of each lane's scan frame, as i32x4:
 * b*H*W + laneOffset + ii * laneRowStep + jj * laneColStep (the steps are -W or -1 for a flipped axis).
 */
// @ts-ignore: decorator
@inline function positions(b: i32, ii: i32, jj: i32): v128 {
  const rowCol = i32x4.add(i32x4.mul(laneRowStep, i32x4.splat(ii)), i32x4.mul(laneColStep, i32x4.splat(jj)));
  return i32x4.add(i32x4.add(i32x4.splat(b * H * W), laneOffset), rowCol);
}

/** Gathers float k of each lane's row (stride floats per position) at positions p0..p3 into one vector. */
// @ts-ignore: decorator
@inline function gather(base: usize, stride: i32, k: i32, p0: i32, p1: i32, p2: i32, p3: i32): v128 {
  let v = f32x4.splat(load<f32>(base + (<usize>(p0 * stride + k) << 2)));
  v = f32x4.replace_lane(v, 1, load<f32>(base + (<usize>(p1 * stride + k) << 2)));
  v = f32x4.replace_lane(v, 2, load<f32>(base + (<usize>(p2 * stride + k) << 2)));
  return f32x4.replace_lane(v, 3, load<f32>(base + (<usize>(p3 * stride + k) << 2)));
}

/** All-ones lanes where the cell is valid (mask non-zero, or no mask), zero lanes where padded. */
// @ts-ignore: decorator
@inline function validLanes(p0: i32, p1: i32, p2: i32, p3: i32): v128 {
  if (!hasMask) return i32x4.splat(-1);
  return f32x4.ne(gather(pMask, 1, 0, p0, p1, p2, p3), f32x4.splat(0));
}

/** Slot t of a [TILE][n] scratch array. */
// @ts-ignore: decorator
@inline function slot(p: usize, t: i32, n: i32): usize {
  return p + (<usize>(t * n) << 4);
}

/** A cell's inputs into slot t of pIn: its C channels (gathered per lane), then h of its y and x predecessors. */
// @ts-ignore: decorator
@inline function gatherInputs(t: i32, sY: i32, sX: i32, p0: i32, p1: i32, p2: i32, p3: i32): void {
  const dst = slot(pIn, t, I);
  for (let ch = 0; ch < C; ch++) setVec(dst, ch, gather(pX, C, ch, p0, p1, p2, p3));
  for (let v = 0; v < U; v++) {
    setVec(dst, C + v, vec(pH, sY * U + v));
    setVec(dst, C + U + v, vec(pH, sX * U + v));
  }
}

/**
 * Writes lane d (< D) of v into the float at base + ((p_d * D + d) * U + u) floats: the [B, H, W, D, U] layout,
 * which is the layer's concatenated output itself (no merge pass after the kernel).
 */
// @ts-ignore: decorator
@inline function scatterPerDirection(base: usize, v: v128, u: i32, p0: i32, p1: i32, p2: i32, p3: i32): void {
  store<f32>(base + (<usize>(p0 * D * U + u) << 2), f32x4.extract_lane(v, 0));
  if (D > 1) store<f32>(base + (<usize>((p1 * D + 1) * U + u) << 2), f32x4.extract_lane(v, 1));
  if (D > 2) store<f32>(base + (<usize>((p2 * D + 2) * U + u) << 2), f32x4.extract_lane(v, 2));
  if (D > 3) store<f32>(base + (<usize>((p3 * D + 3) * U + u) << 2), f32x4.extract_lane(v, 3));
}

/** Reads what scatterPerDirection writes (lanes >= D get zero). */
// @ts-ignore: decorator
@inline function gatherPerDirection(base: usize, u: i32, p0: i32, p1: i32, p2: i32, p3: i32): v128 {
  let v = f32x4.splat(0);
  v = f32x4.replace_lane(v, 0, load<f32>(base + (<usize>(p0 * D * U + u) << 2)));
  if (D > 1) v = f32x4.replace_lane(v, 1, load<f32>(base + (<usize>((p1 * D + 1) * U + u) << 2)));
  if (D > 2) v = f32x4.replace_lane(v, 2, load<f32>(base + (<usize>((p2 * D + 2) * U + u) << 2)));
  if (D > 3) v = f32x4.replace_lane(v, 3, load<f32>(base + (<usize>((p3 * D + 3) * U + u) << 2)));
  return v;
}

// ---- forward ----

/** Scans every sample in every direction; fills h, c, z (scan frame) and hc (h then c, original frame). */
export function forward(): void {
  const Wp = W + 1, rowsP = H + 1;
  memory.fill(pH, 0, <usize>(B * rowsP * Wp * U) << 4); // the zero border (and padded cells) must read 0
  memory.fill(pC, 0, <usize>(B * rowsP * Wp * U) << 4);
  for (let b0 = 0; b0 < B; b0 += TILE) {
    const nb = min(TILE, B - b0);
    memory.fill(pIn, 0, <usize>(TILE * I) << 4); // slots past the last sample compute on zeros, unused
    for (let ii = 0; ii < H; ii++) {
      for (let jj = 0; jj < W; jj++) {
        for (let t = 0; t < nb; t++) {
          const b = b0 + t, s = (b * rowsP + ii + 1) * Wp + jj + 1;
          const p = positions(b, ii, jj);
          gatherInputs(t, s - Wp, s - 1, i32x4.extract_lane(p, 0), i32x4.extract_lane(p, 1), i32x4.extract_lane(p, 2), i32x4.extract_lane(p, 3));
        }
        gateSums();
        for (let t = 0; t < nb; t++) cellForward(t, b0 + t, ii, jj);
      }
    }
  }
}

/** pA[t][g] = bias[g] + sum_k w[g][k] pIn[t][k] for the TILE slots, each weight row read once for all. */
// @ts-ignore: decorator
@inline function gateSums(): void {
  const in0 = pIn, in1 = slot(pIn, 1, I), in2 = slot(pIn, 2, I), in3 = slot(pIn, 3, I);
  const a1 = slot(pA, 1, G), a2 = slot(pA, 2, G), a3 = slot(pA, 3, G);
  for (let g = 0; g < G; g++) {
    const row = pW + (<usize>(g * I) << 4);
    let s0 = vec(pBias, g), s1 = s0, s2 = s0, s3 = s0;
    for (let k = 0; k < I; k++) {
      const w = vec(row, k);
      s0 = f32x4.add(s0, f32x4.mul(w, vec(in0, k)));
      s1 = f32x4.add(s1, f32x4.mul(w, vec(in1, k)));
      s2 = f32x4.add(s2, f32x4.mul(w, vec(in2, k)));
      s3 = f32x4.add(s3, f32x4.mul(w, vec(in3, k)));
    }
    setVec(pA, g, s0); setVec(a1, g, s1); setVec(a2, g, s2); setVec(a3, g, s3);
  }
}

/**
 * Gates, c and h of sample b's cell (ii, jj) from its gate sums in slot t of pA (peephole terms added here);
 * stores them in the scan frame and h, c in hc (original frame).
 */
// @ts-ignore: decorator
@inline function cellForward(t: i32, b: i32, ii: i32, jj: i32): void {
  const Wp = W + 1;
  const s = (b * (H + 1) + ii + 1) * Wp + jj + 1, sY = s - Wp, sX = s - 1;
  const p = positions(b, ii, jj);
  const p0 = i32x4.extract_lane(p, 0), p1 = i32x4.extract_lane(p, 1), p2 = i32x4.extract_lane(p, 2), p3 = i32x4.extract_lane(p, 3);
  const valid = validLanes(p0, p1, p2, p3);
  const a = slot(pA, t, G);
  const sc = f32x4.splat(forgetScale);
  const z = pZ + (<usize>(((b * H + ii) * W + jj) * G) << 4);
  const cPlane = pHC + (<usize>(D * B * H * W * U) << 2);
  for (let u = 0; u < U; u++) {
    const cy = vec(pC, sY * U + u), cx = vec(pC, sX * U + u);
    let ai = vec(a, u), afy = vec(a, U + u), afx = vec(a, 2 * U + u), ao = vec(a, 3 * U + u);
    if (hasPeep) {
      ai = f32x4.add(ai, f32x4.add(f32x4.mul(vec(pPeep, u), cy), f32x4.mul(vec(pPeep, U + u), cx)));
      afy = f32x4.add(afy, f32x4.mul(vec(pPeep, 2 * U + u), cy));
      afx = f32x4.add(afx, f32x4.mul(vec(pPeep, 3 * U + u), cx));
    }
    const ig = vsigmoid(ai), fy = vsigmoid(afy), fx = vsigmoid(afx), gg = vtanh(vec(a, 4 * U + u));
    const forget = f32x4.mul(sc, f32x4.add(f32x4.mul(fy, cy), f32x4.mul(fx, cx)));
    const cc = v128.and(f32x4.add(f32x4.mul(ig, gg), forget), valid);
    if (hasPeep) ao = f32x4.add(ao, f32x4.mul(vec(pPeep, 4 * U + u), cc));
    const o = vsigmoid(ao);
    const hh = v128.and(f32x4.mul(o, vtanh(cc)), valid);
    setVec(z, u, ig); setVec(z, U + u, fy); setVec(z, 2 * U + u, fx); setVec(z, 3 * U + u, o); setVec(z, 4 * U + u, gg);
    setVec(pC, s * U + u, cc);
    setVec(pH, s * U + u, hh);
    scatterPerDirection(pHC, hh, u, p0, p1, p2, p3);
    if (withC) scatterPerDirection(cPlane, cc, u, p0, p1, p2, p3);
  }
}

// ---- backward ----

/**
 * From the gradients of every h and c (hc, original frame) and the forward state, the gradients of x (gx) and
 * of every weight (gw, gb, gp). Walks the cells in reverse scan order: a cell's dh and dc are complete once
 * its successors (right and below, in its frame) are done.
 */
export function backward(): void {
  const Wp = W + 1, rowsP = H + 1;
  const states = <usize>(B * rowsP * Wp * U) << 4;
  memory.fill(pDH, 0, states);
  memory.fill(pDC, 0, states);
  memory.fill(pGX, 0, <usize>(B * H * W * C) << 2);
  memory.fill(pGW, 0, <usize>(G * I) << 4);
  memory.fill(pGB, 0, <usize>G << 4);
  memory.fill(pGP, 0, <usize>(5 * U) << 4);
  for (let b0 = 0; b0 < B; b0 += TILE) {
    const nb = min(TILE, B - b0);
    // Slots past the last sample: zero gate gradients, so that they add nothing to the weight gradients.
    memory.fill(pIn, 0, <usize>(TILE * I) << 4);
    memory.fill(pA, 0, <usize>(TILE * G) << 4);
    for (let ii = H - 1; ii >= 0; ii--) {
      for (let jj = W - 1; jj >= 0; jj--) {
        for (let t = 0; t < nb; t++) cellBackward(t, b0 + t, ii, jj);
        weightGradients();
        inputGradients();
        for (let t = 0; t < nb; t++) scatterInputGradients(t, b0 + t, ii, jj);
      }
    }
  }
}

/**
 * Sample b's cell (ii, jj): its dh and dc (its successors' contributions, plus the layer output's, zeroed where
 * padded) give its gate gradients, into slot t of pA; what flows to the predecessors' c, and into gb and gp.
 * Also gathers the cell's inputs into slot t of pIn, for the weight gradients.
 */
// @ts-ignore: decorator
@inline function cellBackward(t: i32, b: i32, ii: i32, jj: i32): void {
  const Wp = W + 1;
  const s = (b * (H + 1) + ii + 1) * Wp + jj + 1, sY = s - Wp, sX = s - 1;
  const p = positions(b, ii, jj);
  const p0 = i32x4.extract_lane(p, 0), p1 = i32x4.extract_lane(p, 1), p2 = i32x4.extract_lane(p, 2), p3 = i32x4.extract_lane(p, 3);
  const valid = validLanes(p0, p1, p2, p3);
  const a = slot(pA, t, G);
  const one = f32x4.splat(1.0), sc = f32x4.splat(forgetScale);
  const z = pZ + (<usize>(((b * H + ii) * W + jj) * G) << 4);
  const cPlane = pHC + (<usize>(D * B * H * W * U) << 2);
  for (let u = 0; u < U; u++) {
    const cy = vec(pC, sY * U + u), cx = vec(pC, sX * U + u), cc = vec(pC, s * U + u);
    const ig = vec(z, u), fy = vec(z, U + u), fx = vec(z, 2 * U + u), o = vec(z, 3 * U + u), gg = vec(z, 4 * U + u);
    const dh = v128.and(f32x4.add(vec(pDH, s * U + u), gatherPerDirection(pHC, u, p0, p1, p2, p3)), valid);
    const dcOut = withC ? gatherPerDirection(cPlane, u, p0, p1, p2, p3) : f32x4.splat(0);
    const dc = v128.and(f32x4.add(vec(pDC, s * U + u), dcOut), valid);
    const tc = vtanh(cc);
    const dao = f32x4.mul(f32x4.mul(dh, tc), f32x4.mul(o, f32x4.sub(one, o)));
    let dct = f32x4.add(dc, f32x4.mul(f32x4.mul(dh, o), f32x4.sub(one, f32x4.mul(tc, tc))));
    if (hasPeep) dct = f32x4.add(dct, f32x4.mul(dao, vec(pPeep, 4 * U + u)));
    const dai = f32x4.mul(f32x4.mul(dct, gg), f32x4.mul(ig, f32x4.sub(one, ig)));
    const dag = f32x4.mul(f32x4.mul(dct, ig), f32x4.sub(one, f32x4.mul(gg, gg)));
    const dctS = f32x4.mul(dct, sc);
    const dafy = f32x4.mul(f32x4.mul(dctS, cy), f32x4.mul(fy, f32x4.sub(one, fy)));
    const dafx = f32x4.mul(f32x4.mul(dctS, cx), f32x4.mul(fx, f32x4.sub(one, fx)));
    setVec(a, u, dai); setVec(a, U + u, dafy); setVec(a, 2 * U + u, dafx); setVec(a, 3 * U + u, dao); setVec(a, 4 * U + u, dag);
    let toCy = f32x4.mul(dctS, fy), toCx = f32x4.mul(dctS, fx);
    if (hasPeep) {
      toCy = f32x4.add(toCy, f32x4.add(f32x4.mul(dai, vec(pPeep, u)), f32x4.mul(dafy, vec(pPeep, 2 * U + u))));
      toCx = f32x4.add(toCx, f32x4.add(f32x4.mul(dai, vec(pPeep, U + u)), f32x4.mul(dafx, vec(pPeep, 3 * U + u))));
      addVec(pGP, u, f32x4.mul(dai, cy));
      addVec(pGP, U + u, f32x4.mul(dai, cx));
      addVec(pGP, 2 * U + u, f32x4.mul(dafy, cy));
      addVec(pGP, 3 * U + u, f32x4.mul(dafx, cx));
      addVec(pGP, 4 * U + u, f32x4.mul(dao, cc));
    }
    addVec(pDC, sY * U + u, toCy);
    addVec(pDC, sX * U + u, toCx);
  }
  for (let g = 0; g < G; g++) addVec(pGB, g, vec(a, g));
  gatherInputs(t, sY, sX, p0, p1, p2, p3);
}

/** gw[g][k] += sum_t da_t[g] in_t[k] over the TILE slots (each gradient row read and written once for all). */
// @ts-ignore: decorator
@inline function weightGradients(): void {
  const in0 = pIn, in1 = slot(pIn, 1, I), in2 = slot(pIn, 2, I), in3 = slot(pIn, 3, I);
  for (let g = 0; g < G; g++) {
    const d0 = vec(pA, g), d1 = vec(slot(pA, 1, G), g), d2 = vec(slot(pA, 2, G), g), d3 = vec(slot(pA, 3, G), g);
    const row = pGW + (<usize>(g * I) << 4);
    for (let k = 0; k < I; k++) {
      const sum01 = f32x4.add(f32x4.mul(d0, vec(in0, k)), f32x4.mul(d1, vec(in1, k)));
      const sum23 = f32x4.add(f32x4.mul(d2, vec(in2, k)), f32x4.mul(d3, vec(in3, k)));
      addVec(row, k, f32x4.add(sum01, sum23));
    }
  }
}

/** pGin[t][k] = sum_g w[g][k] da_t[g] (through wt, whose row k is contiguous), each row read once for all slots. */
// @ts-ignore: decorator
@inline function inputGradients(): void {
  const a1 = slot(pA, 1, G), a2 = slot(pA, 2, G), a3 = slot(pA, 3, G);
  const g1 = slot(pGin, 1, I), g2 = slot(pGin, 2, I), g3 = slot(pGin, 3, I);
  for (let k = 0; k < I; k++) {
    const row = pWT + (<usize>(k * G) << 4);
    let s0 = f32x4.splat(0), s1 = s0, s2 = s0, s3 = s0;
    for (let g = 0; g < G; g++) {
      const w = vec(row, g);
      s0 = f32x4.add(s0, f32x4.mul(w, vec(pA, g)));
      s1 = f32x4.add(s1, f32x4.mul(w, vec(a1, g)));
      s2 = f32x4.add(s2, f32x4.mul(w, vec(a2, g)));
      s3 = f32x4.add(s3, f32x4.mul(w, vec(a3, g)));
    }
    setVec(pGin, k, s0); setVec(g1, k, s1); setVec(g2, k, s2); setVec(g3, k, s3);
  }
}

/** Slot t's input gradients to gx (per lane at its own position, summed over the directions) and the predecessors' dh. */
// @ts-ignore: decorator
@inline function scatterInputGradients(t: i32, b: i32, ii: i32, jj: i32): void {
  const Wp = W + 1;
  const s = (b * (H + 1) + ii + 1) * Wp + jj + 1, sY = s - Wp, sX = s - 1;
  const p = positions(b, ii, jj);
  const p0 = i32x4.extract_lane(p, 0), p1 = i32x4.extract_lane(p, 1), p2 = i32x4.extract_lane(p, 2), p3 = i32x4.extract_lane(p, 3);
  const gin = slot(pGin, t, I);
  for (let ch = 0; ch < C; ch++) {
    const v = vec(gin, ch);
    addFloat(pGX + (<usize>(p0 * C + ch) << 2), f32x4.extract_lane(v, 0));
    if (D > 1) addFloat(pGX + (<usize>(p1 * C + ch) << 2), f32x4.extract_lane(v, 1));
    if (D > 2) addFloat(pGX + (<usize>(p2 * C + ch) << 2), f32x4.extract_lane(v, 2));
    if (D > 3) addFloat(pGX + (<usize>(p3 * C + ch) << 2), f32x4.extract_lane(v, 3));
  }
  for (let v = 0; v < U; v++) {
    addVec(pDH, sY * U + v, vec(gin, C + v));
    addVec(pDH, sX * U + v, vec(gin, C + U + v));
  }
}

// @ts-ignore: decorator
@inline function addFloat(p: usize, v: f32): void {
  store<f32>(p, load<f32>(p) + v);
}
