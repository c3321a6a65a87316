import { Rng } from '@scriptorium/runtime/rng';
import { describe, expect, it } from 'vitest';
import { gaussianBlur, minMax3x3 } from './filters.js';
import type { LineImage } from './line-image.js';

/** Uniform random pixels in [0, 1]. */
function noiseImage(height: number, width: number, seed = 1): LineImage {
  const rng = new Rng(seed);
  return { data: Float32Array.from({ length: height * width }, () => rng.next()), height, width };
}

describe('filters', () => {
  it('separable 3x3 min/max equals the naive 9-pixel window', () => {
    const img = noiseImage(9, 13, 3);
    for (const dilate of [false, true]) {
      const op = dilate ? Math.max : Math.min;
      const naive = new Float32Array(img.data.length);
      for (let y = 0; y < img.height; y++)
        for (let x = 0; x < img.width; x++) {
          let v = img.data[y * img.width + x]!;
          for (let dy = -1; dy <= 1; dy++)
            for (let dx = -1; dx <= 1; dx++) {
              const [yy, xx] = [y + dy, x + dx];
              if (yy >= 0 && yy < img.height && xx >= 0 && xx < img.width) v = op(v, img.data[yy * img.width + xx]!);
            }
          naive[y * img.width + x] = v;
        }
      expect(minMax3x3(img.data, img.height, img.width, dilate)).toEqual(naive);
    }
  });

  it('separable blur equals a naive 2-D Gaussian convolution', () => {
    const img = noiseImage(7, 11, 4),
      sigma = 0.8,
      r = 3; // radius ceil(3 * 0.8) = 3
    const weight = (d: number) => Math.exp(-(d * d) / (2 * sigma * sigma));
    let norm = 0;
    for (let d = -r; d <= r; d++) norm += weight(d);
    const clamp = (v: number, n: number) => Math.min(n - 1, Math.max(0, v));
    const naive = new Float32Array(img.data.length);
    for (let y = 0; y < img.height; y++)
      for (let x = 0; x < img.width; x++) {
        let v = 0;
        for (let dy = -r; dy <= r; dy++)
          for (let dx = -r; dx <= r; dx++)
            v +=
              (weight(dx) * weight(dy) * img.data[clamp(y + dy, img.height) * img.width + clamp(x + dx, img.width)]!) /
              norm ** 2;
        naive[y * img.width + x] = v;
      }
    const fast = gaussianBlur(img.data, img.height, img.width, sigma);
    fast.forEach((v, p) => expect(v).toBeCloseTo(naive[p]!, 5));
  });
});
