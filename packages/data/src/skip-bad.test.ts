import { describe, expect, it } from 'vitest';
import type { Dataset } from './dataset.js';
import { DataError } from './errors.js';
import { skipBad, type SkippedSample } from './skip-bad.js';

/** Five samples; 1 and 3 have bad data, 4 hits a bug. Counts the loads. */
function fakeDataset(): Dataset & { loads: number } {
  const ds = {
    name: 'fake',
    size: 5,
    loads: 0,
    id: (i: number) => `s${i}`,
    text: (i: number) => `t${i}`,
    load: async (i: number) => {
      ds.loads++;
      if (i === 1 || i === 3) throw new DataError(`lines.tsv:${i + 1}: 's${i}.png' not found`);
      if (i === 4) throw new TypeError('a bug, not bad data');
      return { id: `s${i}`, text: `t${i}`, image: { data: new Float32Array(1), width: 1, height: 1 } };
    },
  };
  return ds;
}

describe('skipBad', () => {
  it('returns undefined for bad samples, reports each once and counts them', async () => {
    const ds = fakeDataset();
    const reports: SkippedSample[] = [];
    const loader = skipBad(ds, { onSkip: (s) => reports.push(s) });
    const batch = await Promise.all([0, 1, 2, 3, 1].map((i) => loader.load(i)));
    expect(batch.map((s) => s?.id)).toEqual(['s0', undefined, 's2', undefined, undefined]);
    expect(await loader.load(1)).toBeUndefined(); // known bad: not loaded again
    expect(reports).toEqual([
      { index: 1, id: 's1', message: "lines.tsv:2: 's1.png' not found" },
      { index: 3, id: 's3', message: "lines.tsv:4: 's3.png' not found" },
    ]);
    expect(loader.skipped).toEqual(reports);
    expect(ds.loads).toBe(5); // the second concurrent load of 1 ran, the sixth call did not
  });

  it('rethrows errors that are not bad data', async () => {
    await expect(skipBad(fakeDataset()).load(4)).rejects.toThrow(TypeError);
  });

  it('fails once more than maxSkipped samples are bad', async () => {
    const loader = skipBad(fakeDataset(), { maxSkipped: 1 });
    expect(await loader.load(1)).toBeUndefined();
    await expect(loader.load(3)).rejects.toThrow(
      "2 bad samples, more than maxSkipped 1; last: lines.tsv:4: 's3.png' not found",
    );
  });
});
