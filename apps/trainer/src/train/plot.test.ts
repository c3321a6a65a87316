import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { lineChartSvg, niceTicks, savePlot } from './plot.js';

describe('niceTicks', () => {
  it('gives 1-2-5 steps covering the range', () => {
    // range 0..1 in ~5 steps: raw step 0.2 -> 0.2.
    expect(niceTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    // range 3..97: raw 18.8 -> step 20, first multiple >= 3 is 20.
    expect(niceTicks(3, 97)).toEqual([20, 40, 60, 80]);
  });
});

describe('line charts', () => {
  it('draws a falling series top-left to bottom-right and rasterises it to PNG', async () => {
    const svg = lineChartSvg({
      title: 'loss',
      xLabel: 'step',
      yLabel: 'loss',
      width: 200,
      height: 120,
      series: [
        {
          name: 'train',
          points: [
            [0, 10],
            [10, 1],
          ],
          color: '#ff0000',
        },
      ],
    });
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'plot-')), 'loss.png');
    await savePlot(svg, file);
    const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([200, 120]);
    // Find red pixels (the series): those in the left third must sit higher (smaller y) than those in the right third.
    const red: Array<[number, number]> = [];
    for (let y = 0; y < info.height; y++)
      for (let x = 0; x < info.width; x++) {
        const i = (y * info.width + x) * 3;
        if (data[i]! > 200 && data[i + 1]! < 80 && data[i + 2]! < 80) red.push([x, y]);
      }
    const meanY = (pts: Array<[number, number]>) => pts.reduce((s, p) => s + p[1], 0) / pts.length;
    const left = red.filter(([x]) => x < 100),
      right = red.filter(([x]) => x > 140 && x < 180);
    expect(left.length).toBeGreaterThan(5);
    expect(right.length).toBeGreaterThan(5);
    expect(meanY(left)).toBeLessThan(meanY(right));
  });

  it('escapes text and survives empty series', () => {
    const svg = lineChartSvg({ title: 'a<b', xLabel: 'x', yLabel: 'y', series: [{ name: 'none', points: [] }] });
    expect(svg).toContain('a&lt;b');
    expect(svg).not.toContain('NaN');
  });
});
