import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { Rng } from '@scriptorium/runtime/rng';
import { resampleWindow } from './resample.js';

/**
 * The slow oracle: each output pixel straight from the definition, in float64, over the whole 2D window at once:
 * weights tri(dy / sy) * tri(dx / sx) (support widened to the reduction factor when shrinking, 1 when
 * enlarging), normalised over the source pixels inside the window.
 */
function oracle(
  src: Float32Array,
  srcWidth: number,
  x0: number,
  y0: number,
  w: number,
  h: number,
  outW: number,
  outH: number,
): Float64Array {
  const out = new Float64Array(outW * outH);
  const sx = Math.max(1, w / outW),
    sy = Math.max(1, h / outH);
  for (let i = 0; i < outH; i++)
    for (let j = 0; j < outW; j++) {
      const cy = ((i + 0.5) * h) / outH - 0.5,
        cx = ((j + 0.5) * w) / outW - 0.5;
      let num = 0,
        den = 0;
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) {
          const wt = Math.max(0, 1 - Math.abs(y - cy) / sy) * Math.max(0, 1 - Math.abs(x - cx) / sx);
          num += wt * src[(y0 + y) * srcWidth + x0 + x]!;
          den += wt;
        }
      out[i * outW + j] = num / den;
    }
  return out;
}

describe('resampleWindow', () => {
  const rng = new Rng(3);
  const srcW = 29,
    srcH = 17,
    src = Float32Array.from({ length: srcW * srcH }, () => rng.next());
  for (const [x0, y0, w, h, outW, outH] of [
    [0, 0, 29, 17, 11, 6], // shrink by 2.6 / 2.8
    [3, 2, 20, 12, 45, 30], // enlarge
    [5, 1, 21, 15, 21, 9], // shrink one axis only
    [2, 4, 9, 7, 4, 13], // shrink x, enlarge y
    [0, 0, 29, 17, 29, 17], // identity
  ] as const) {
    it(`maps a ${w}x${h} window at (${x0}, ${y0}) to ${outW}x${outH} as the 2D definition does`, () => {
      const got = resampleWindow(src, srcW, x0, y0, w, h, outW, outH, 0.5);
      const want = oracle(src, srcW, x0, y0, w, h, outW, outH);
      expect(got.length).toBe(outW * outH);
      for (let p = 0; p < got.length; p++) expect(got[p], `output ${p}`).toBeCloseTo(0.5 * want[p]!, 5);
    });
  }

  it('keeps a constant image constant and stays close to libvips linear resizing', async () => {
    const flat = resampleWindow(new Float32Array(40 * 30).fill(0.7), 40, 0, 0, 40, 30, 13, 9);
    for (const v of flat) expect(v).toBeCloseTo(0.7, 6);
    // A smooth image shrunk by 1.5 (a 96 px scan line to 64 px): libvips's linear reduction should agree to a
    // few grey levels on average (its kernels and rounding differ in detail).
    const w = 300,
      h = 96,
      img = new Float32Array(w * h),
      bytes = Buffer.alloc(w * h);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const v = 0.5 + 0.5 * Math.sin(x / 7) * Math.cos(y / 5);
        img[y * w + x] = v;
        bytes[y * w + x] = Math.round(v * 255);
      }
    const ours = resampleWindow(img, w, 0, 0, w, h, 200, 64);
    const theirs = await sharp(bytes, { raw: { width: w, height: h, channels: 1 } })
      .resize(200, 64, { fit: 'fill', kernel: 'linear' })
      .toColourspace('b-w')
      .raw()
      .toBuffer();
    let sum = 0;
    for (let p = 0; p < ours.length; p++) sum += Math.abs(ours[p]! - theirs[p]! / 255);
    expect(sum / ours.length).toBeLessThan(3 / 255);
  });
});
