import { createAdadeltaState } from '@scriptorium/adadelta';
import { describe, expect, it } from 'vitest';
import { createLayout } from '../layout.js';
import { checkStepArguments, COORDINATOR_DEFAULTS, resolveCoordinatorOptions } from './options.js';

const layout = createLayout([{ name: 'p', shape: [4] }]);
const base = { layout, params: new Float32Array(4) };

describe('resolveCoordinatorOptions', () => {
  it('fills in the defaults', () => {
    expect(resolveCoordinatorOptions(base)).toEqual({
      bindEndpoint: 'tcp://127.0.0.1:*', // ':0' is ZeroMQ's ':*' (any free port)
      minWorkers: COORDINATOR_DEFAULTS.minWorkers,
      joinTimeoutMs: COORDINATOR_DEFAULTS.joinTimeoutMs,
      stepTimeoutMs: COORDINATOR_DEFAULTS.stepTimeoutMs,
      heartbeatMs: COORDINATOR_DEFAULTS.heartbeatMs,
      heartbeatMisses: COORDINATOR_DEFAULTS.heartbeatMisses,
      maxMessageSize: 4 * 4 + (1 << 20), // one gradient frame of 4 floats plus 1 MiB
      config: undefined,
    });
  });

  it('keeps what is given, and the config as plain JSON data', () => {
    const r = resolveCoordinatorOptions({
      ...base,
      endpoint: 'ipc:///tmp/dp',
      minWorkers: 3,
      heartbeatMs: 50,
      maxMessageSize: 99,
      config: { a: [1, 'x'], d: new Date(0) },
    });
    expect([r.bindEndpoint, r.minWorkers, r.heartbeatMs, r.maxMessageSize]).toEqual(['ipc:///tmp/dp', 3, 50, 99]);
    expect(r.config).toEqual({ a: [1, 'x'], d: '1970-01-01T00:00:00.000Z' });
  });

  it('refuses a timing that is not a positive integer, naming it', () => {
    expect(() => resolveCoordinatorOptions({ ...base, heartbeatMs: 0 })).toThrow(
      'Coordinator: options.heartbeatMs is 0, expected a positive integer',
    );
    expect(() => resolveCoordinatorOptions({ ...base, stepTimeoutMs: 1.5 })).toThrow('options.stepTimeoutMs is 1.5');
    expect(() => resolveCoordinatorOptions({ ...base, minWorkers: -1 })).toThrow('options.minWorkers is -1');
  });

  it('checkpoint.every is optional (the application saves when it wants), else a positive integer', () => {
    expect(() => resolveCoordinatorOptions({ ...base, checkpoint: { dir: '/tmp/x' } })).not.toThrow();
    expect(() => resolveCoordinatorOptions({ ...base, checkpoint: { dir: '/tmp/x', every: 0 } })).toThrow(
      'Coordinator: options.checkpoint.every is 0, expected a positive integer (or leave it out)',
    );
  });

  it('refuses parameters and optimizer state that do not fit the layout, or non-finite parameters', () => {
    expect(() => resolveCoordinatorOptions({ layout, params: new Float32Array(3) })).toThrow(
      'options.params has 3 values, layout expects 4',
    );
    expect(() => resolveCoordinatorOptions({ layout, params: Float32Array.of(0, 0, NaN, 0) })).toThrow(
      'options.params[2] is NaN, expected finite values',
    );
    expect(() => resolveCoordinatorOptions({ ...base, optimizerState: createAdadeltaState(5) })).toThrow(
      'options.optimizerState has 5 values, layout expects 4',
    );
  });

  it('refuses a non-loopback endpoint without CURVE unless insecure is set', () => {
    expect(() => resolveCoordinatorOptions({ ...base, endpoint: 'tcp://10.0.0.1:5555' })).toThrow(
      "Coordinator: endpoint 'tcp://10.0.0.1:5555' is not loopback; use CURVE (options.curve) or set insecure: true",
    );
    expect(resolveCoordinatorOptions({ ...base, endpoint: 'tcp://10.0.0.1:0', insecure: true }).bindEndpoint).toBe(
      'tcp://10.0.0.1:*',
    );
  });
});

describe('checkStepArguments', () => {
  it('refuses an empty or missing batch and a next hint that is not an array', () => {
    expect(() => checkStepArguments([], {})).toThrow('Coordinator.step: items must be a non-empty array, got []');
    expect(() => checkStepArguments(undefined as unknown as unknown[], {})).toThrow('got undefined');
    expect(() => checkStepArguments([1], { next: 5 as unknown as unknown[] })).toThrow(
      'options.next must be an array of items, got number',
    );
    expect(() => checkStepArguments([1], { next: [2] })).not.toThrow();
  });
});
