import { describe, expect, it } from 'vitest';
import { budgetStop, budgetUsed, etaMs, Throughput } from './budget.js';

describe('budget', () => {
  it('stops at the first limit reached, steps before epochs before time, naming the flag', () => {
    const b = { maxSteps: 10, maxEpochs: 2, timeLimit: 90_000 };
    expect(budgetStop(b, 9, 1, 89_999)).toBe('');
    expect(budgetStop(b, 10, 2, 90_000)).toBe('reached --max-steps 10');
    expect(budgetStop(b, 9, 2, 90_000)).toBe('reached --max-epochs 2');
    expect(budgetStop(b, 9, 1, 90_000)).toBe('reached --time-limit 1m30s');
    expect(budgetStop({}, 1e9, 1e9, 1e12)).toBe('');
  });

  it('counts the budget used as the larger of the step and time fractions', () => {
    // 3 of 4 steps, 30 of 60 s: 0.75; time alone: 0.5; neither limit: 0.
    expect(budgetUsed({ maxSteps: 4, timeLimit: 60_000 }, 3, 30_000)).toBe(0.75);
    expect(budgetUsed({ timeLimit: 60_000 }, 3, 30_000)).toBe(0.5);
    expect(budgetUsed({}, 3, 30_000)).toBe(0);
  });

  it('estimates the time left from the steps of this session, or from the time limit, whichever is sooner', () => {
    // 10 of 100 steps in 20 s: 90 more steps at 2 s each = 180 s.
    expect(etaMs({ maxSteps: 100 }, 10, 10, 20_000, 20_000)).toBe(180_000);
    // Resumed at step 50: 5 steps in this session's 10 s (2 s each), 45 more = 90 s, whatever earlier sessions took.
    expect(etaMs({ maxSteps: 100 }, 55, 5, 10_000, 300_000)).toBe(90_000);
    // The same run with a 120 s limit: 100 s left by the clock, sooner than 180 s.
    expect(etaMs({ maxSteps: 100, timeLimit: 120_000 }, 10, 10, 20_000, 20_000)).toBe(100_000);
    // A time limit counts earlier sessions: 310 s of 400 s used leaves 90 s.
    expect(etaMs({ timeLimit: 400_000 }, 55, 5, 10_000, 310_000)).toBe(90_000);
    expect(etaMs({ maxEpochs: 3 }, 10, 10, 20_000, 20_000)).toBeUndefined();
  });
});

describe('Throughput', () => {
  it('gives lines per second over a window that restarts once it is over 20 s long', () => {
    const t = new Throughput(0);
    expect(t.add(8, 2_000)).toBe(4); // 8 lines in 2 s
    expect(t.add(32, 10_000)).toBe(4); // 40 in 10 s
    expect(t.add(60, 25_000)).toBe(4); // 100 in 25 s: the window restarts at 25 s
    expect(t.add(10, 26_000)).toBe(10); // 10 in the new window's 1 s
    expect(new Throughput(5).add(3, 5)).toBe(3000); // no time yet: counted over 1 ms
  });
});
