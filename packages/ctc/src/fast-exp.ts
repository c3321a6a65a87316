/**
 * exp(x) for x <= 0 (softmax terms x - max), about 3x faster than Math.exp in V8, within 1e-15 relative error.
 *
 * Table method (Tang 1989): x = (256 i + j) ln2/256 + r with |r| <= ln2/512, so
 * exp(x) = 2^i * 2^(j/256) * exp(r), and exp(r) by its Taylor polynomial to degree 4 (error below r^5/120 < 4e-17).
 */
const INV_LN2_256 = 256 / Math.LN2;
// ln2/256 = HI + LO to ~2^-85 (fdlibm's ln2_hi, ln2_lo over 256): n * HI is exact for |n| < 2^21 (Cody and Waite).
// biome-ignore lint/correctness/noPrecisionLoss: fdlibm's constants, digits as published
const LN2_256_HI = 6.9314718036912381649e-1 / 256;
// biome-ignore lint/correctness/noPrecisionLoss: as above
const LN2_256_LO = 1.90821492927058770002e-10 / 256;
/** Adding and subtracting 1.5 * 2^52 rounds to the nearest integer (Math.round is several times slower). */
const ROUND = 6755399441055744;
const MIN_EXPONENT = -1100;
const POW2_FRAC = Float64Array.from({ length: 256 }, (_, j) => 2 ** (j / 256));
const POW2_INT = Float64Array.from({ length: -MIN_EXPONENT + 1 }, (_, k) => 2 ** (k + MIN_EXPONENT));

export function expNonPositive(x: number): number {
  if (x < -745) return 0; // below the smallest subnormal (and -Infinity)
  const n = x * INV_LN2_256 + ROUND - ROUND;
  const r = x - n * LN2_256_HI - n * LN2_256_LO;
  const p = 1 + r * (1 + r * (0.5 + r * (1 / 6 + r * (1 / 24))));
  const k = n | 0;
  return POW2_INT[(k >> 8) - MIN_EXPONENT] * POW2_FRAC[k & 255] * p;
}
