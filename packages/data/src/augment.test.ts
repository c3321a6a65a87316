import { Rng } from '@scriptorium/runtime/rng';
import { describe, expect, it } from 'vitest';
import { AUGMENT_PRESETS, augmentLine, elasticField, gridRow, normalQuantile } from './augment.js';
import { parseAugmentConfig, parseAugmentSpec } from './augment-config.js';
import type { LineImage } from './line-image.js';

const sum = (a: Float32Array) => a.reduce((s, v) => s + v, 0);

/** Uniform random pixels in [0, 1]. */
function noiseImage(height: number, width: number, seed = 1): LineImage {
  const rng = new Rng(seed);
  return { data: Float32Array.from({ length: height * width }, () => rng.next()), height, width };
}

/** A 24x60 test pattern away from the borders: a horizontal and a vertical stroke, a grey blob. */
function pattern(): LineImage {
  const height = 24,
    width = 60,
    data = new Float32Array(height * width);
  for (let x = 8; x < 40; x++) data[12 * width + x] = data[13 * width + x] = 1;
  for (let y = 5; y < 19; y++) data[y * width + 20] = 1;
  for (let y = 8; y < 14; y++) for (let x = 45; x < 52; x++) data[y * width + x] = 0.25 + 0.1 * ((x + y) % 4);
  return { data, height, width };
}

describe('augmentLine', () => {
  it('is the identity (a copy, rng untouched) when every transform is off', () => {
    const img = noiseImage(16, 40);
    for (const config of [{}, AUGMENT_PRESETS.none!, { scale: [1, 1] as [number, number], erodeP: 0 }]) {
      const rng = new Rng(7);
      const out = augmentLine(img, config, rng);
      expect([out.height, out.width]).toEqual([16, 40]);
      expect(out.data).toEqual(img.data);
      expect(out.data).not.toBe(img.data);
      expect(rng.getState()).toBe(new Rng(7).getState());
    }
  });

  it('is deterministic in the rng state and does not modify its input', () => {
    const img = pattern();
    const before = img.data.slice();
    const config = { ...AUGMENT_PRESETS.default!, blurSigma: 1, contrast: 0.2, brightness: 0.05 };
    const a = augmentLine(img, config, new Rng(42));
    const b = augmentLine(img, config, new Rng(42));
    const c = augmentLine(img, config, new Rng(43));
    expect(b).toEqual(a);
    expect(c.data).not.toEqual(a.data);
    expect(img.data).toEqual(before);
  });

  it('keeps the height, values in [0, 1] and visible ink under the strong preset', () => {
    // A 4 px stroke (32 px lines have 2 to 4 px strokes): erosion takes a pixel off each side, so 1 or 2 px strokes can vanish.
    const img = pattern();
    for (let y = 11; y < 15; y++) for (let x = 8; x < 40; x++) img.data[y * img.width + x] = 1;
    const inkMax = 1;
    for (let seed = 0; seed < 20; seed++) {
      const out = augmentLine(img, AUGMENT_PRESETS.strong!, new Rng(seed));
      expect(out.height).toBe(img.height);
      // Width: scale 0.75..1.3, shear adds up to 24 * tan(20 deg) = 8.7 px, rotation fitting shrinks a little.
      expect(out.width).toBeGreaterThan(0.65 * img.width);
      expect(out.width).toBeLessThan(1.3 * img.width + 10);
      expect(Math.min(...out.data)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...out.data)).toBeLessThanOrEqual(1);
      // Contrast down to 0.7 and brightness down to -0.12 leave the strokes well above the paper.
      expect(Math.max(...out.data)).toBeGreaterThan(0.5 * inkMax);
    }
  });

  it('throws for an image whose data does not match its size', () => {
    const img = { data: new Float32Array(3 * 4 * 5), height: 4, width: 5 }; // e.g. 3 channels left in
    expect(() => augmentLine(img, {}, new Rng(1))).toThrow(
      'augmentLine: 60 values for a 4 x 5 image (expected one per pixel)',
    );
  });

  it('keeps the height and values in [0, 1] under the default preset', () => {
    const img = pattern();
    for (let seed = 0; seed < 20; seed++) {
      const out = augmentLine(img, AUGMENT_PRESETS.default!, new Rng(seed));
      expect(out.height).toBe(img.height);
      expect(out.data.length).toBe(out.height * out.width);
      // Width: scale 0.9..1.1, shear adds up to 24 * tan(10 deg) = 4.2 px, rotation fitting shrinks a little.
      expect(out.width).toBeGreaterThan(0.75 * img.width);
      expect(out.width).toBeLessThan(1.1 * img.width + 5);
      expect(Math.min(...out.data)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...out.data)).toBeLessThanOrEqual(1);
    }
  });

  it('shears a vertical bar to the slant of the shear formula, row by row', () => {
    // Bar in columns 14 and 15 of a 20x30 image: centroid x = 15 (pixel centres at +0.5).
    const h = 20,
      w = 30,
      img: LineImage = { data: new Float32Array(h * w), height: h, width: w };
    for (let y = 0; y < h; y++) img.data[y * w + 14] = img.data[y * w + 15] = 1;
    for (const seed of [1, 2, 3, 4]) {
      // With only shear on, the angle is the rng's first draw, uniform in [-20, 20] degrees.
      const tan = Math.tan((new Rng(seed).uniform(-20, 20) * Math.PI) / 180);
      const out = augmentLine(img, { shear: 20 }, new Rng(seed));
      // Output width holds the sheared box: w + h |tan|; the centres of input and output coincide.
      expect(out.width).toBe(Math.round(w + h * Math.abs(tan)));
      for (let y = 0; y < h; y++) {
        const row = out.data.subarray(y * out.width, (y + 1) * out.width);
        const centroid = row.reduce((s, v, x) => s + v * (x + 0.5), 0) / sum(row);
        // x' = W/2 + (x - w/2) - tan * (y - h/2): positive shear moves the top right.
        expect(centroid).toBeCloseTo(out.width / 2 + (15 - w / 2) - tan * (y + 0.5 - h / 2), 3);
        expect(sum(row)).toBeCloseTo(2, 4); // linear interpolation along the row keeps the row's ink
      }
    }
  });

  it('dilation thickens strokes (more ink) and erosion thins them (less ink)', () => {
    const img = pattern(),
      mass = sum(img.data);
    const dilated = augmentLine(img, { dilateP: 1 }, new Rng(1));
    const eroded = augmentLine(img, { erodeP: 1 }, new Rng(1));
    expect(sum(dilated.data)).toBeGreaterThan(mass);
    expect(sum(eroded.data)).toBeLessThan(mass);
    // The 1-px vertical stroke (column 20, rows 5..18) becomes 3 px wide, then disappears.
    expect([19, 20, 21].map((x) => dilated.data[10 * img.width + x])).toEqual([1, 1, 1]);
    expect(eroded.data[10 * img.width + 20]).toBe(0);
  });

  it('blur spreads ink but keeps its total mass within 1%', () => {
    const img = pattern(),
      mass = sum(img.data);
    const out = augmentLine(img, { blurSigma: 3 }, new Rng(5));
    expect(Math.abs(sum(out.data) - mass) / mass).toBeLessThan(0.01);
    expect(Math.max(...out.data)).toBeLessThan(1);
  });

  it('grid rows interpolate the grid linearly along y', () => {
    const grid = noiseImage(4, 6, 5),
      step = 3; // node rows at pixels 0, 3, 6, 9
    const nodes = new Float32Array(6);
    for (let y = 0; y < 10; y++) {
      gridRow(grid.data, 4, 6, step, y, 2, nodes);
      const j = Math.floor(y / step),
        t = y / step - j,
        j1 = Math.min(3, j + 1);
      for (let i = 0; i < 6; i++)
        expect(nodes[i]).toBeCloseTo(2 * ((1 - t) * grid.data[j * 6 + i]! + t * grid.data[j1 * 6 + i]!), 5);
    }
  });

  it('the elastic field has the configured RMS displacement and varies smoothly', () => {
    const h = 64,
      w = 900,
      alpha = 1.5,
      sigma = 6;
    const field = elasticField(h, alpha, sigma, w, new Rng(21));
    let sumSq = 0,
      sumStep = 0;
    for (let y = 0; y < h; y++) {
      field.row(y);
      let prev = 0;
      for (let x = 0; x < w; x++) {
        expect(field.step).toBe(sigma);
        const i = Math.floor(x / sigma),
          t = x / sigma - i; // node i sits at pixel i * step
        const dx = field.nodesX[i]! + t * (field.nodesX[i + 1]! - field.nodesX[i]!);
        const dy = field.nodesY[i]! + t * (field.nodesY[i + 1]! - field.nodesY[i]!);
        sumSq += dx * dx + dy * dy;
        if (x > 0) sumStep += Math.abs(dx - prev);
        prev = dx;
      }
    }
    const rms = Math.sqrt(sumSq / (2 * h * w));
    // Scaled to alpha at the grid nodes; interpolating between them lowers the RMS a little.
    expect(rms).toBeGreaterThan(0.85 * alpha);
    expect(rms).toBeLessThanOrEqual(1.01 * alpha);
    // Neighbouring pixels move together: a step of 1 px changes the displacement by a small part of alpha.
    expect(sumStep / (h * (w - 1))).toBeLessThan(0.2 * alpha);
  });

  it("draws its noise from the rng's own stream: one 32-bit number per two pixels of a row", () => {
    // 7 rows of 9 pixels: 5 draws a row (the last one's second half unused), as rng.uint32() would make them.
    const rng = new Rng(77),
      ref = new Rng(77);
    augmentLine({ data: new Float32Array(7 * 9).fill(0.5), height: 7, width: 9 }, { noiseStd: 0.1 }, rng);
    for (let k = 0; k < 7 * 5; k++) ref.uint32();
    expect(rng.getState()).toBe(ref.getState());
  });

  it('normal quantiles match tabulated values', () => {
    // Standard normal table values (e.g. Abramowitz & Stegun 26.2), across the central and both tail branches.
    for (const [p, z] of [
      [0.5, 0],
      [0.975, 1.959963985],
      [0.841344746, 1],
      [0.001, -3.090232306],
      [0.02, -2.053748911],
      [0.99, 2.326347874],
      [1e-6, -4.753424309],
    ]) {
      expect(normalQuantile(p!)).toBeCloseTo(z!, 7);
    }
  });

  it('adds noise of the configured standard deviation', () => {
    // Mid-grey, so that clamping to [0, 1] never cuts the noise. 32,000 pixels: the sample std has a
    // relative standard error of 1 / sqrt(2n) = 0.4%, the mean a standard error of 0.05 / sqrt(n) = 0.0003.
    const img: LineImage = { data: new Float32Array(64 * 500).fill(0.5), height: 64, width: 500 };
    const out = augmentLine(img, { noiseStd: 0.05 }, new Rng(9));
    const n = out.data.length,
      mean = sum(out.data) / n;
    const std = Math.sqrt(out.data.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1));
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.0015);
    expect(Math.abs(std - 0.05) / 0.05).toBeLessThan(0.02);
    // Close to Gaussian: no skew, and the fraction beyond 2 std near the normal's 4.55%.
    const skew = out.data.reduce((s, v) => s + ((v - mean) / std) ** 3, 0) / n;
    const beyond2 = out.data.filter((v) => Math.abs(v - mean) > 2 * std).length / n;
    expect(Math.abs(skew)).toBeLessThan(0.05);
    expect(Math.abs(beyond2 - 0.0455)).toBeLessThan(0.006);
  });

  it('elastic distortion moves ink but keeps the size and most of the ink', () => {
    const img = pattern(),
      mass = sum(img.data);
    const out = augmentLine(img, { elasticAlpha: 1.5, elasticSigma: 4 }, new Rng(11));
    expect([out.height, out.width]).toEqual([img.height, img.width]);
    expect(out.data).not.toEqual(img.data);
    expect(Math.abs(sum(out.data) - mass) / mass).toBeLessThan(0.15);
  });
});

describe('parseAugmentConfig', () => {
  it('accepts fields and preset names', () => {
    expect(parseAugmentConfig({ shear: 5, scale: [0.8, 1.2], noiseStd: 0.02 })).toEqual({
      shear: 5,
      scale: [0.8, 1.2],
      noiseStd: 0.02,
    });
    expect(parseAugmentConfig('default')).toEqual(AUGMENT_PRESETS.default);
    expect(parseAugmentConfig(JSON.parse(JSON.stringify(AUGMENT_PRESETS.default)))).toEqual(AUGMENT_PRESETS.default);
  });

  it('throws naming the field, the value and what was expected', () => {
    const where = 'train.json: augment';
    expect(() => parseAugmentConfig({ blurSigma: -1 }, where)).toThrow(
      'train.json: augment: blurSigma = -1 (expected px >= 0)',
    );
    expect(() => parseAugmentConfig({ elasticSigma: 0 }, where)).toThrow('elasticSigma = 0 (expected px > 0)');
    expect(() => parseAugmentConfig({ shear: '10' }, where)).toThrow('shear = "10" (expected degrees in [0, 60))');
    expect(() => parseAugmentConfig({ erodeP: 1.5 }, where)).toThrow('erodeP = 1.5 (expected a probability in [0, 1])');
    expect(() => parseAugmentConfig({ erodeP: 0.6, dilateP: 0.6 }, where)).toThrow(
      'erodeP + dilateP = 1.2 (expected at most 1',
    );
    expect(() => parseAugmentConfig({ scale: [1.2, 0.8] }, where)).toThrow(
      'scale = [1.2,0.8] (expected [min, max] with 0 < min <= max)',
    );
    expect(() => parseAugmentConfig({ sheer: 3 }, where)).toThrow(
      "unknown field 'sheer' (expected shear, scale, rotation,",
    );
    expect(() => parseAugmentConfig('heavy', where)).toThrow(
      "unknown preset 'heavy' (expected one of none, default, strong)",
    );
    expect(() => parseAugmentConfig(3, where)).toThrow(
      'expected an object of augmentation fields or a preset name, got 3',
    );
  });

  it('reads command-line specs: a preset, a preset with fields changed, or fields alone', () => {
    expect(parseAugmentSpec('default')).toEqual(AUGMENT_PRESETS.default);
    expect(parseAugmentSpec('default:shear=0,noiseStd=0.05')).toEqual({
      ...AUGMENT_PRESETS.default,
      shear: 0,
      noiseStd: 0.05,
    });
    expect(parseAugmentSpec('shear=10,scale=0.8..1.2')).toEqual({ shear: 10, scale: [0.8, 1.2] });
    expect(() => parseAugmentSpec('default:shear')).toThrow("augment 'default:shear': 'shear' (expected FIELD=NUMBER");
    expect(() => parseAugmentSpec('shear=ten')).toThrow("augment 'shear=ten': shear=ten (expected a number)");
    expect(() => parseAugmentSpec('shear=70')).toThrow("augment 'shear=70': shear = 70 (expected degrees in [0, 60))");
    expect(() => parseAugmentSpec('scale=0.9..x')).toThrow('scale=0.9..x (expected two numbers)');
    expect(() => parseAugmentSpec('scale=1.1')).toThrow('scale=1.1 (expected scale=MIN..MAX');
    expect(() => parseAugmentSpec('heavy:shear=1')).toThrow("unknown preset 'heavy'");
  });
});
