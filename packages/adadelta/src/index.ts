export { ADADELTA_DEFAULTS, AdadeltaConfigError, resolveAdadeltaConfig } from './config.js';
export type { AdadeltaConfig, ResolvedAdadeltaConfig } from './config.js';
export { adadeltaStep, adadeltaStepReference } from './adadelta-step.js';
export type { AdadeltaStepResult } from './adadelta-step.js';
export { createAdadeltaState, deserializeAdadeltaState, serializeAdadeltaState } from './state.js';
export type { AdadeltaState } from './state.js';
export { Adadelta } from './adadelta-optimizer.js';
