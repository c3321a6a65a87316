import { formatDuration } from './progress.js';

/** What ends a run besides patience and SIGINT: steps, epochs or time (ms), whichever comes first. */
export interface Budget {
  maxSteps?: number;
  maxEpochs?: number;
  timeLimit?: number;
}

/** Why the run stops before its next step, or '' when it goes on. `elapsedMs` counts the time of earlier sessions too. */
export function budgetStop(b: Budget, step: number, epoch: number, elapsedMs: number): string {
  if (b.maxSteps !== undefined && step >= b.maxSteps) return `reached --max-steps ${b.maxSteps}`;
  if (b.maxEpochs !== undefined && epoch >= b.maxEpochs) return `reached --max-epochs ${b.maxEpochs}`;
  if (b.timeLimit !== undefined && elapsedMs >= b.timeLimit)
    return `reached --time-limit ${formatDuration(b.timeLimit)}`;
  return '';
}

/** The fraction of the budget used after `step` steps: of the steps or of the time, whichever ends the run first. */
export function budgetUsed(b: Budget, step: number, elapsedMs: number): number {
  return Math.max(
    b.maxSteps !== undefined ? step / b.maxSteps : 0,
    b.timeLimit !== undefined ? elapsedMs / b.timeLimit : 0,
  );
}

/**
 * The time left (ms) after `step` steps, or undefined without a step or time limit: for a step limit, at this
 * session's pace (`sessionSteps` steps in `sessionMs`); for a time limit, what remains of it after `elapsedMs`
 * (earlier sessions' time included, as the limit counts it).
 */
export function etaMs(
  b: Budget,
  step: number,
  sessionSteps: number,
  sessionMs: number,
  elapsedMs: number,
): number | undefined {
  const bySteps = b.maxSteps !== undefined ? ((b.maxSteps - step) * sessionMs) / Math.max(1, sessionSteps) : Infinity;
  const byTime = b.timeLimit !== undefined ? b.timeLimit - elapsedMs : Infinity;
  const eta = Math.min(bySteps, byTime);
  return Number.isFinite(eta) ? eta : undefined;
}

/** Lines per second over a window that restarts once it spans more than `windowMs`. */
export class Throughput {
  private lines = 0;
  constructor(
    private start = Date.now(),
    private readonly windowMs = 20_000,
  ) {}

  /** Counts `lines` more at time `now`; returns the rate of the window so far. */
  add(lines: number, now = Date.now()): number {
    this.lines += lines;
    const elapsed = now - this.start;
    const rate = (this.lines * 1000) / Math.max(1, elapsed);
    if (elapsed > this.windowMs) [this.start, this.lines] = [now, 0];
    return rate;
  }
}
