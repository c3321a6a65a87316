import type { SamplerState } from '@scriptorium/data';
import { latestCheckpoint, loadCheckpoint, type LoadedCheckpoint } from '@scriptorium/dataparallel';
import { UsageError } from '../cli/errors.js';
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

/** The latest checkpoint in `dir`, to resume from. */
export async function latestRunCheckpoint(dir: string): Promise<RunCheckpoint> {
  const file = await latestCheckpoint(dir);
  if (!file) throw new UsageError(`train --resume: no checkpoint in ${dir}`, false);
  const checkpoint = await loadCheckpoint(file);
  // The trainer's own state, as it wrote it (JSON).
  return { ...checkpoint, appState: checkpoint.appState as AppState };
}
