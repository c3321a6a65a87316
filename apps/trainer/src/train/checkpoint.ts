import type { SamplerState } from '@scriptorium/data';
import { listCheckpoints, loadCheckpoint, type LoadedCheckpoint } from '@scriptorium/dataparallel';
import { errorMessage, UsageError } from '../cli/errors.js';
import type { TrainJob } from '../job.js';
import type { Settings } from './resume.js';

/** What the loop keeps in checkpoints besides parameters and optimizer state (the checkpoint's appState, JSON). */
export interface AppState {
  sampler: SamplerState;
  bestCer: number;
  evalsWithoutImprovement: number;
  trainedMs: number;
  /** Lines left out of their batch so far (once per batch they were drawn in): bad data (--skip-bad) or texts too long for their image. */
  skippedLines?: number;
  /** The training flags a resume must repeat (by flag name), so that it continues the same run. */
  settings?: Settings;
  job: TrainJob;
}

export type RunCheckpoint = LoadedCheckpoint & { appState: AppState };

/**
 * The newest checkpoint in `dir` that loads and verifies, to resume from. Each newer one that does not is
 * skipped with a line to `warn` naming it and why; a UsageError when none is left.
 */
export async function latestRunCheckpoint(
  dir: string,
  warn: (line: string) => void = (line) => console.error(line),
): Promise<RunCheckpoint> {
  const files = await listCheckpoints(dir);
  if (!files.length) throw new UsageError(`train --resume: no checkpoint in ${dir}`, false);
  const skipped: string[] = [];
  for (const file of files.reverse()) {
    try {
      const checkpoint = await loadCheckpoint(file);
      // The trainer's own state, as it wrote it (JSON).
      return { ...checkpoint, appState: checkpoint.appState as AppState };
    } catch (err) {
      const why = errorMessage(err);
      // loadCheckpoint's messages start with the file; say it once.
      skipped.push(why.startsWith(`${file}: `) ? why : `${file}: ${why}`);
      warn(`train --resume: skipping ${skipped[skipped.length - 1]}`);
    }
  }
  throw new UsageError(`train --resume: no checkpoint in ${dir} verifies (${skipped.join('; ')})`, false);
}
