import { describe, expect, it } from 'vitest';
import { formatDuration, formatProgress } from './progress.js';

describe('progress line', () => {
  it('shows step, lines/s, loss, ETA and workers', () => {
    // 125 of 500 steps = a quarter of a 20-wide bar = 5 '#'.
    expect(
      formatProgress({ step: 125, maxSteps: 500, linesPerSec: 37.25, loss: 3.41234, etaMs: 250_000, workers: 2 }),
    ).toBe('[#####...............] step 125/500  37.3 lines/s  loss 3.412  ETA 4m10s  workers 2');
    expect(formatProgress({ step: 7, linesPerSec: 1, loss: NaN, workers: 0 })).toBe(
      'step 7  1.0 lines/s  loss NaN  ETA --  workers 0',
    );
  });

  it('formats durations', () => {
    expect(formatDuration(59_400)).toBe('59s');
    expect(formatDuration(3_725_000)).toBe('1h02m');
    expect(formatDuration(-1)).toBe('--');
  });
});
