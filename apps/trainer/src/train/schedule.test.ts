import { describe, expect, it } from 'vitest';
import { emaDecayAt, scheduledLearningRate, updateEma } from './schedule.js';

describe('scheduledLearningRate', () => {
  it('holds lr, then falls linearly to 0 at the end of the budget (hand-worked)', () => {
    // Decay from half the budget: 0.75 of it used is half-way down, 0.9 leaves a fifth.
    const expected = [2, 2, 2, 1, 0.4, 0, 0];
    [0, 0.3, 0.5, 0.75, 0.9, 1, 1.2].forEach((u, k) =>
      expect(scheduledLearningRate(2, 0.5, u)).toBeCloseTo(expected[k]!, 12),
    );
    expect(scheduledLearningRate(1.5, 0, 0.25)).toBe(1.125);
    expect(scheduledLearningRate(1.5, undefined, 0.99)).toBe(1.5);
  });
});

describe('moving average of the weights', () => {
  it('warms up as (1 + t) / (10 + t), then holds the decay (hand-worked)', () => {
    expect(emaDecayAt(0.999, 0)).toBeCloseTo(0.1, 12);
    expect(emaDecayAt(0.999, 8)).toBeCloseTo(0.5, 12);
    expect(emaDecayAt(0.9, 80)).toBeCloseTo(0.9, 12); // 81 / 90 = 0.9 exactly where the two meet
    expect(emaDecayAt(0.9, 1000)).toBe(0.9);
  });

  it('updates in place: avg <- d avg + (1 - d) params', () => {
    const avg = Float32Array.from([1, -2, 4]);
    updateEma(avg, Float32Array.from([3, 2, 4]), 0.75);
    expect(Array.from(avg)).toEqual([1.5, -1, 4]);
  });
});
