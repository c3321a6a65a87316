import { describe, expect, it } from 'vitest';
import { scheduledLearningRate } from './schedule.js';

describe('scheduledLearningRate', () => {
  it('holds lr, then falls linearly to 0 at the end of the budget (hand-worked)', () => {
    // Decay from half the budget: 0.75 of it used is half-way down, 0.9 leaves a fifth.
    const expected = [2, 2, 2, 1, 0.4, 0, 0];
    [0, 0.3, 0.5, 0.75, 0.9, 1, 1.2].forEach((u, k) => expect(scheduledLearningRate(2, 0.5, u)).toBeCloseTo(expected[k]!, 12));
    expect(scheduledLearningRate(1.5, 0, 0.25)).toBe(1.125);
    expect(scheduledLearningRate(1.5, undefined, 0.99)).toBe(1.5);
  });
});
