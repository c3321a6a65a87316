export { weightedAverage } from './average.js';
export type { ShardGradients } from './average.js';
export {
  CHECKPOINT_FORMAT,
  checkpointFileName,
  latestCheckpoint,
  listCheckpoints,
  loadCheckpoint,
  saveCheckpoint,
} from './checkpoint.js';
export type { CheckpointData, LoadedCheckpoint } from './checkpoint.js';
export { Coordinator } from './coordinator.js';
export { COORDINATOR_DEFAULTS } from './coordinator/options.js';
export type {
  CoordinatorCheckpointOptions,
  CoordinatorCurveOptions,
  CoordinatorEvent,
  CoordinatorOptions,
  StepOptions,
} from './coordinator/options.js';
export type { WorkerInfo } from './coordinator/membership.js';
export type { ShardReport, StepResult } from './coordinator/step.js';
export { generateCurveKeyPair, isLoopbackEndpoint, z85Decode } from './curve.js';
export type { CurveKeyPair } from './curve.js';
export { launchLocal } from './launch-local.js';
export type { LaunchLocalOptions, LocalRestartOptions, LocalWorkers } from './launch-local.js';
export { CoordinatorError } from './coordinator/errors.js';
export { WorkerError } from './worker/errors.js';
export { assertSameLayout, createLayout, layoutDifferences, validateLayout } from './layout.js';
export type { LayoutEntry, ParamLayout } from './layout.js';
export { defaultLogger, silentLogger } from './logger.js';
export type { Logger, LogLevel } from './logger.js';
export { MAX_CONFIG_BYTES, PROTOCOL_VERSION } from './protocol.js';
export { splitBatch } from './split.js';
export { assignFlat, flattenNamedTensors, flattenVariables, layoutFromVariables } from './tfjs-variables.js';
export { runWorker, WORKER_DEFAULTS } from './worker.js';
export type {
  GradientResult,
  WorkerCurveOptions,
  WorkerExit,
  WorkerOptions,
  WorkerShard,
  WorkerWelcome,
} from './worker.js';
