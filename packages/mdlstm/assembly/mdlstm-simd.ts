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
//   x [B][H][W][C], mask [B][H][W] (0 = padded), hc [2][D][B][H][W][U] (forward: h and c out; backward: their
//   gradients in), gx [B][H][W][C].
// A padded cell (mask 0) has h = c = 0, so it acts as a missing predecessor; backward, its incoming gradient
// is zeroed, so it passes nothing on.

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
let flipY: i32 = 0, flipX: i32 = 0; // bit d: direction d flips that axis
let forgetScale: f32 = 1; // 0.5 for the bounded cell
let hasMask: bool = false, hasPeep: bool = false;

let pW: usize = 0, pWT: usize = 0, pBias: usize = 0, pPeep: usize = 0, pX: usize = 0, pMask: usize = 0;
let pH: usize = 0, pC: usize = 0, pZ: usize = 0, pHC: usize = 0, pGX: usize = 0;
let pGW: usize = 0, pGB: usize = 0, pGP: usize = 0, pDH: usize = 0, pDC: usize = 0;
let pIn: usize = 0, pA: usize = 0, pGin: usize = 0; // scratch: one cell's inputs [I], gate sums [G], input gradients [I]

export function configure(b: i32, h: i32, w: i32, c: i32, u: i32, d: i32, flipBitsY: i32, flipBitsX: i32, bounded: bool, mask: bool, peep: bool): void {
  B = b; H = h; W = w; C = c; U = u; D = d; G = 5 * u; I = c + 2 * u;
  flipY = flipBitsY; flipX = flipBitsX;
  forgetScale = bounded ? 0.5 : 1.0;
  hasMask = mask; hasPeep = peep;
}

export function setPointers(
  w: usize, wt: usize, bias: usize, peep: usize, x: usize, mask: usize, h: usize, c: usize, z: usize, hc: usize,
  gx: usize, gw: usize, gb: usize, gp: usize, dh: usize, dc: usize, scratch: usize,
): void {
  pW = w; pWT = wt; pBias = bias; pPeep = peep; pX = x; pMask = mask; pH = h; pC = c; pZ = z; pHC = hc;
  pGX = gx; pGW = gw; pGB = gb; pGP = gp; pDH = dh; pDC = dc;
  pIn = scratch; pA = scratch + (<usize>I << 4); pGin = pA + (<usize>G << 4);
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

/** Flat [B, H, W] index, in the original frame, of cell (b, ii, jj) of lane d's scan frame. */
// @ts-ignore: decorator
@inline function position(d: i32, b: i32, ii: i32, jj: i32): i32 {
  const i = (flipY >> d) & 1 ? H - 1 - ii : ii;
  const j = (flipX >> d) & 1 ? W - 1 - jj : jj;
  return (b * H + i) * W + j;
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

/** The cell's inputs into pIn: its C channels (gathered per lane), then h of its y and x predecessors. */
// @ts-ignore: decorator
@inline function gatherInputs(sY: i32, sX: i32, p0: i32, p1: i32, p2: i32, p3: i32): void {
  for (let ch = 0; ch < C; ch++) setVec(pIn, ch, gather(pX, C, ch, p0, p1, p2, p3));
  for (let v = 0; v < U; v++) {
    setVec(pIn, C + v, vec(pH, sY * U + v));
    setVec(pIn, C + U + v, vec(pH, sX * U + v));
  }
}

/** sum_k a[k] b[k] over n vectors (two accumulators, so that consecutive adds do not wait on each other). */
// @ts-ignore: decorator
@inline function dot(a: usize, b: usize, n: i32): v128 {
  let s0 = f32x4.splat(0), s1 = f32x4.splat(0);
  let k = 0;
  for (; k + 1 < n; k += 2) {
    s0 = f32x4.add(s0, f32x4.mul(vec(a, k), vec(b, k)));
    s1 = f32x4.add(s1, f32x4.mul(vec(a, k + 1), vec(b, k + 1)));
  }
  if (k < n) s0 = f32x4.add(s0, f32x4.mul(vec(a, k), vec(b, k)));
  return f32x4.add(s0, s1);
}

/** Writes lane d (< D) of v into the float at base + ((d * B*H*W + p_d) * U + u) floats. */
// @ts-ignore: decorator
@inline function scatterPerDirection(base: usize, v: v128, u: i32, p0: i32, p1: i32, p2: i32, p3: i32): void {
  const plane = B * H * W;
  store<f32>(base + (<usize>(p0 * U + u) << 2), f32x4.extract_lane(v, 0));
  if (D > 1) store<f32>(base + (<usize>((plane + p1) * U + u) << 2), f32x4.extract_lane(v, 1));
  if (D > 2) store<f32>(base + (<usize>((2 * plane + p2) * U + u) << 2), f32x4.extract_lane(v, 2));
  if (D > 3) store<f32>(base + (<usize>((3 * plane + p3) * U + u) << 2), f32x4.extract_lane(v, 3));
}

/** Reads what scatterPerDirection writes (lanes >= D get zero). */
// @ts-ignore: decorator
@inline function gatherPerDirection(base: usize, u: i32, p0: i32, p1: i32, p2: i32, p3: i32): v128 {
  const plane = B * H * W;
  let v = f32x4.splat(0);
  v = f32x4.replace_lane(v, 0, load<f32>(base + (<usize>(p0 * U + u) << 2)));
  if (D > 1) v = f32x4.replace_lane(v, 1, load<f32>(base + (<usize>((plane + p1) * U + u) << 2)));
  if (D > 2) v = f32x4.replace_lane(v, 2, load<f32>(base + (<usize>((2 * plane + p2) * U + u) << 2)));
  if (D > 3) v = f32x4.replace_lane(v, 3, load<f32>(base + (<usize>((3 * plane + p3) * U + u) << 2)));
  return v;
}

// ---- forward ----

/** Scans every sample in every direction; fills h, c, z (scan frame) and hc (h then c, original frame). */
export function forward(): void {
  const Wp = W + 1, rowsP = H + 1;
  memory.fill(pH, 0, <usize>(B * rowsP * Wp * U) << 4); // the zero border (and padded cells) must read 0
  memory.fill(pC, 0, <usize>(B * rowsP * Wp * U) << 4);
  const cPlane = pHC + (<usize>(D * B * H * W * U) << 2);
  for (let b = 0; b < B; b++) {
    for (let ii = 0; ii < H; ii++) {
      for (let jj = 0; jj < W; jj++) {
        const s = (b * rowsP + ii + 1) * Wp + jj + 1;
        const p0 = position(0, b, ii, jj), p1 = position(1, b, ii, jj), p2 = position(2, b, ii, jj), p3 = position(3, b, ii, jj);
        gatherInputs(s - Wp, s - 1, p0, p1, p2, p3);
        for (let g = 0; g < G; g++) setVec(pA, g, f32x4.add(vec(pBias, g), dot(pIn, pW + (<usize>(g * I) << 4), I)));
        cellForward(s, s - Wp, s - 1, (b * H + ii) * W + jj, validLanes(p0, p1, p2, p3));
        for (let u = 0; u < U; u++) {
          scatterPerDirection(pHC, vec(pH, s * U + u), u, p0, p1, p2, p3);
          scatterPerDirection(cPlane, vec(pC, s * U + u), u, p0, p1, p2, p3);
        }
      }
    }
  }
}

/** Gates, c and h of cell s from its gate sums in pA (peephole terms added here); predecessors sY, sX. */
// @ts-ignore: decorator
@inline function cellForward(s: i32, sY: i32, sX: i32, cell: i32, valid: v128): void {
  const sc = f32x4.splat(forgetScale);
  const z = pZ + (<usize>(cell * G) << 4);
  for (let u = 0; u < U; u++) {
    const cy = vec(pC, sY * U + u), cx = vec(pC, sX * U + u);
    let ai = vec(pA, u), afy = vec(pA, U + u), afx = vec(pA, 2 * U + u), ao = vec(pA, 3 * U + u);
    if (hasPeep) {
      ai = f32x4.add(ai, f32x4.add(f32x4.mul(vec(pPeep, u), cy), f32x4.mul(vec(pPeep, U + u), cx)));
      afy = f32x4.add(afy, f32x4.mul(vec(pPeep, 2 * U + u), cy));
      afx = f32x4.add(afx, f32x4.mul(vec(pPeep, 3 * U + u), cx));
    }
    const ig = vsigmoid(ai), fy = vsigmoid(afy), fx = vsigmoid(afx), gg = vtanh(vec(pA, 4 * U + u));
    const forget = f32x4.mul(sc, f32x4.add(f32x4.mul(fy, cy), f32x4.mul(fx, cx)));
    const cc = v128.and(f32x4.add(f32x4.mul(ig, gg), forget), valid);
    if (hasPeep) ao = f32x4.add(ao, f32x4.mul(vec(pPeep, 4 * U + u), cc));
    const o = vsigmoid(ao);
    setVec(z, u, ig); setVec(z, U + u, fy); setVec(z, 2 * U + u, fx); setVec(z, 3 * U + u, o); setVec(z, 4 * U + u, gg);
    setVec(pC, s * U + u, cc);
    setVec(pH, s * U + u, v128.and(f32x4.mul(o, vtanh(cc)), valid));
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
  const cPlane = pHC + (<usize>(D * B * H * W * U) << 2);
  for (let b = 0; b < B; b++) {
    for (let ii = H - 1; ii >= 0; ii--) {
      for (let jj = W - 1; jj >= 0; jj--) {
        const s = (b * rowsP + ii + 1) * Wp + jj + 1;
        const p0 = position(0, b, ii, jj), p1 = position(1, b, ii, jj), p2 = position(2, b, ii, jj), p3 = position(3, b, ii, jj);
        const valid = validLanes(p0, p1, p2, p3);
        for (let u = 0; u < U; u++) {
          // This cell's gradients from the layer's output join those from its successors.
          addVec(pDH, s * U + u, gatherPerDirection(pHC, u, p0, p1, p2, p3));
          addVec(pDC, s * U + u, gatherPerDirection(cPlane, u, p0, p1, p2, p3));
        }
        cellBackward(s, s - Wp, s - 1, (b * H + ii) * W + jj, valid);
        gatherInputs(s - Wp, s - 1, p0, p1, p2, p3);
        inputsBackward(s - Wp, s - 1, p0, p1, p2, p3);
      }
    }
  }
}

/**
 * The gate gradients of cell s into pA, from its dh and dc (zeroed where padded); what flows to the
 * predecessors' c, and into gb and gp.
 */
// @ts-ignore: decorator
@inline function cellBackward(s: i32, sY: i32, sX: i32, cell: i32, valid: v128): void {
  const one = f32x4.splat(1.0), sc = f32x4.splat(forgetScale);
  const z = pZ + (<usize>(cell * G) << 4);
  for (let u = 0; u < U; u++) {
    const cy = vec(pC, sY * U + u), cx = vec(pC, sX * U + u), cc = vec(pC, s * U + u);
    const ig = vec(z, u), fy = vec(z, U + u), fx = vec(z, 2 * U + u), o = vec(z, 3 * U + u), gg = vec(z, 4 * U + u);
    const dh = v128.and(vec(pDH, s * U + u), valid);
    const tc = vtanh(cc);
    const dao = f32x4.mul(f32x4.mul(dh, tc), f32x4.mul(o, f32x4.sub(one, o)));
    let dct = f32x4.add(v128.and(vec(pDC, s * U + u), valid), f32x4.mul(f32x4.mul(dh, o), f32x4.sub(one, f32x4.mul(tc, tc))));
    if (hasPeep) dct = f32x4.add(dct, f32x4.mul(dao, vec(pPeep, 4 * U + u)));
    const dai = f32x4.mul(f32x4.mul(dct, gg), f32x4.mul(ig, f32x4.sub(one, ig)));
    const dag = f32x4.mul(f32x4.mul(dct, ig), f32x4.sub(one, f32x4.mul(gg, gg)));
    const dctS = f32x4.mul(dct, sc);
    const dafy = f32x4.mul(f32x4.mul(dctS, cy), f32x4.mul(fy, f32x4.sub(one, fy)));
    const dafx = f32x4.mul(f32x4.mul(dctS, cx), f32x4.mul(fx, f32x4.sub(one, fx)));
    setVec(pA, u, dai); setVec(pA, U + u, dafy); setVec(pA, 2 * U + u, dafx); setVec(pA, 3 * U + u, dao); setVec(pA, 4 * U + u, dag);
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
  for (let g = 0; g < G; g++) addVec(pGB, g, vec(pA, g));
}

/**
 * With the cell's gate gradients in pA and its inputs in pIn: gw += da (x) inputs, and the inputs' gradients
 * (w^T da) into gx (per lane at its own position, summed over the directions) and the predecessors' dh.
 */
// @ts-ignore: decorator
@inline function inputsBackward(sY: i32, sX: i32, p0: i32, p1: i32, p2: i32, p3: i32): void {
  for (let g = 0; g < G; g++) {
    const da = vec(pA, g);
    const row = pGW + (<usize>(g * I) << 4);
    for (let k = 0; k < I; k++) addVec(row, k, f32x4.mul(da, vec(pIn, k)));
  }
  for (let k = 0; k < I; k++) setVec(pGin, k, dot(pA, pWT + (<usize>(k * G) << 4), G));
  for (let ch = 0; ch < C; ch++) {
    const v = vec(pGin, ch);
    addFloat(pGX + (<usize>(p0 * C + ch) << 2), f32x4.extract_lane(v, 0));
    if (D > 1) addFloat(pGX + (<usize>(p1 * C + ch) << 2), f32x4.extract_lane(v, 1));
    if (D > 2) addFloat(pGX + (<usize>(p2 * C + ch) << 2), f32x4.extract_lane(v, 2));
    if (D > 3) addFloat(pGX + (<usize>(p3 * C + ch) << 2), f32x4.extract_lane(v, 3));
  }
  for (let v = 0; v < U; v++) {
    addVec(pDH, sY * U + v, vec(pGin, C + v));
    addVec(pDH, sX * U + v, vec(pGin, C + U + v));
  }
}

// @ts-ignore: decorator
@inline function addFloat(p: usize, v: f32): void {
  store<f32>(p, load<f32>(p) + v);
}
