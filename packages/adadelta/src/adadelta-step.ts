import { AdadeltaConfigError, resolveAdadeltaConfig, type AdadeltaConfig } from './config.js';
import type { AdadeltaState } from './state.js';

export interface AdadeltaStepResult {
  /** True when a non-finite gradient was found with onNonFinite 'skip': nothing changed. */
  skipped: boolean;
  /** Global L2 norm of the gradient before clipping. */
  gradNorm: number;
  /** First index of a NaN or infinite gradient, when there is one. */
  badIndex?: number;
}

/**
 * One Zeiler (2012) Adadelta step, in place on `params` and `state`, in one fused loop:
 *
 *   E[g^2]  = rho*E[g^2]  + (1-rho)*g^2
 *   delta   = sqrt(E[dx^2] + eps) / sqrt(E[g^2] + eps) * g      (the new E[g^2])
 *   E[dx^2] = rho*E[dx^2] + (1-rho)*delta^2
 *   x      -= lr * delta
 *
 * Storage is float32; each element's arithmetic runs in float64 (JavaScript numbers) and is rounded
 * once when stored. That costs nothing extra in JS and rounds no more than the tfjs float32 path.
 */
export function adadeltaStep(
  params: Float32Array,
  grads: Float32Array,
  state: AdadeltaState,
  config: AdadeltaConfig = {},
): AdadeltaStepResult {
  const c = resolveAdadeltaConfig(config);
  const n = params.length;
  if (grads.length !== n) throw new AdadeltaConfigError(`adadelta: grads has ${grads.length} values, params ${n}`);
  if (state.accumGrad.length !== n || state.accumDelta.length !== n) {
    throw new AdadeltaConfigError(
      `adadelta: state holds ${state.accumGrad.length}/${state.accumDelta.length} values, params ${n}`,
    );
  }
  let sumSq = 0;
  for (let i = 0; i < n; i++) {
    const g = grads[i]!;
    if (!Number.isFinite(g)) {
      if (c.onNonFinite === 'skip') return { skipped: true, gradNorm: NaN, badIndex: i };
      throw new AdadeltaConfigError(
        `adadelta: gradient at index ${i} is ${g} (expected a finite number); nothing was changed`,
      );
    }
    sumSq += g * g;
  }
  const gradNorm = Math.sqrt(sumSq);
  const scale = c.clipNorm !== undefined && gradNorm > c.clipNorm ? c.clipNorm / gradNorm : 1;
  const { rho, epsilon: eps, learningRate: lr } = c;
  const coupled = c.decoupledWeightDecay ? 0 : c.weightDecay;
  const decoupled = c.decoupledWeightDecay ? lr * c.weightDecay : 0;
  const eg2 = state.accumGrad,
    edx2 = state.accumDelta;
  for (let i = 0; i < n; i++) {
    const x = params[i]!;
    const g = grads[i]! * scale + coupled * x;
    const eg = rho * eg2[i]! + (1 - rho) * g * g;
    const delta = Math.sqrt((edx2[i]! + eps) / (eg + eps)) * g;
    eg2[i] = eg;
    edx2[i] = rho * edx2[i]! + (1 - rho) * delta * delta;
    params[i] = x - lr * delta - decoupled * x;
  }
  state.iterations++;
  return { skipped: false, gradNorm };
}

/**
 * The slow, obvious reference: the same rule written step by step on number[] in float64,
 * with no fusion and no float32 storage. Tests compare the fast paths against it.
 */
export function adadeltaStepReference(
  params: number[],
  grads: number[],
  state: { accumGrad: number[]; accumDelta: number[] },
  config: AdadeltaConfig = {},
): void {
  const c = resolveAdadeltaConfig(config);
  let g = grads.slice();
  if (c.clipNorm !== undefined) {
    const norm = Math.sqrt(g.reduce((s, v) => s + v * v, 0));
    if (norm > c.clipNorm) g = g.map((v) => (v * c.clipNorm!) / norm);
  }
  if (!c.decoupledWeightDecay) g = g.map((v, i) => v + c.weightDecay * params[i]!);
  const old = params.slice();
  for (let i = 0; i < params.length; i++) {
    state.accumGrad[i] = c.rho * state.accumGrad[i]! + (1 - c.rho) * g[i]! ** 2;
    const rmsDelta = Math.sqrt(state.accumDelta[i]! + c.epsilon);
    const rmsGrad = Math.sqrt(state.accumGrad[i]! + c.epsilon);
    const delta = (rmsDelta / rmsGrad) * g[i]!;
    state.accumDelta[i] = c.rho * state.accumDelta[i]! + (1 - c.rho) * delta ** 2;
    params[i] = params[i]! - c.learningRate * delta;
    if (c.decoupledWeightDecay) params[i] = params[i]! - c.learningRate * c.weightDecay * old[i]!;
  }
}
