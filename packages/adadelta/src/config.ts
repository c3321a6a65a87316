/**
 * Adadelta hyperparameters. Defaults (stated once, here):
 * - learningRate 1.0: Zeiler (2012) has no learning rate (it is 1); PyTorch's default is also 1.0,
 *   Keras's is 0.001 (Keras scales the Zeiler step down by default).
 * - rho 0.95: Zeiler's value and Keras's default; PyTorch's default is 0.9.
 * - epsilon 1e-6: Zeiler's value and PyTorch's default; Keras's is 1e-7.
 */
export interface AdadeltaConfig {
  /** Multiplies the Zeiler step. Default 1.0. */
  learningRate?: number;
  /** Decay of both running averages, in [0, 1]. Default 0.95. */
  rho?: number;
  /** Added inside both square roots, > 0. Default 1e-6. */
  epsilon?: number;
  /** Weight decay factor, >= 0. Default 0 (none). */
  weightDecay?: number;
  /**
   * false (default): coupled L2 as PyTorch, `g += weightDecay * x` before the update.
   * true: decoupled as Keras, `x -= learningRate * weightDecay * x` beside the update.
   */
  decoupledWeightDecay?: boolean;
  /** Clip the gradient to this global L2 norm before the update. Default: no clipping. */
  clipNorm?: number;
  /** A NaN or infinite gradient: 'throw' (default) names the first bad index; 'skip' leaves params and state untouched. */
  onNonFinite?: 'throw' | 'skip';
}

export type ResolvedAdadeltaConfig = Required<Omit<AdadeltaConfig, 'clipNorm'>> & { clipNorm: number | undefined };

export const ADADELTA_DEFAULTS: ResolvedAdadeltaConfig = {
  learningRate: 1.0,
  rho: 0.95,
  epsilon: 1e-6,
  weightDecay: 0,
  decoupledWeightDecay: false,
  clipNorm: undefined,
  onNonFinite: 'throw',
};

/** A bad hyperparameter, buffer or gradient. Nothing was changed when it is thrown. */
export class AdadeltaConfigError extends Error {
  override name = 'AdadeltaConfigError';
}

/** Fills in defaults and checks every field; throws AdadeltaConfigError naming the field. */
export function resolveAdadeltaConfig(config: AdadeltaConfig = {}): ResolvedAdadeltaConfig {
  const c = { ...ADADELTA_DEFAULTS, ...Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined)) };
  const bad = (field: string, value: unknown, expected: string) =>
    new AdadeltaConfigError(`adadelta: ${field} = ${String(value)} is invalid (expected ${expected})`);
  if (!(Number.isFinite(c.learningRate) && c.learningRate >= 0))
    throw bad('learningRate', c.learningRate, 'a finite number >= 0');
  if (!(c.rho >= 0 && c.rho <= 1)) throw bad('rho', c.rho, 'a number in [0, 1]');
  if (!(Number.isFinite(c.epsilon) && c.epsilon > 0)) throw bad('epsilon', c.epsilon, 'a finite number > 0');
  if (!(Number.isFinite(c.weightDecay) && c.weightDecay >= 0))
    throw bad('weightDecay', c.weightDecay, 'a finite number >= 0');
  if (c.clipNorm !== undefined && !(Number.isFinite(c.clipNorm) && c.clipNorm > 0)) {
    throw bad('clipNorm', c.clipNorm, 'a finite number > 0, or undefined for no clipping');
  }
  if (c.onNonFinite !== 'throw' && c.onNonFinite !== 'skip')
    throw bad('onNonFinite', c.onNonFinite, "'throw' or 'skip'");
  return c as ResolvedAdadeltaConfig;
}
