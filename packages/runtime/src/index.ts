export { BACKEND_NAMES, BackendError, initBackend, parseBackendName } from './backend.js';
export type { BackendAttempt, BackendName, BackendOptions, BackendReport } from './backend.js';
export { Rng } from './rng.js';
