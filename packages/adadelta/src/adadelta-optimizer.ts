import * as tf from '@tensorflow/tfjs-core';

/** tfjs-core's NamedTensor, which its index does not export. */
type NamedTensor = { name: string; tensor: tf.Tensor };
import {
  AdadeltaConfigError,
  resolveAdadeltaConfig,
  type AdadeltaConfig,
  type ResolvedAdadeltaConfig,
} from './config.js';

interface Slots {
  accumGrad: tf.Variable;
  accumDelta: tf.Variable;
}

/**
 * Zeiler-exact Adadelta as a tfjs Optimizer (for `model.fit`, `optimizer.minimize` and
 * `applyGradients`). The same rule as `adadeltaStep`; unlike tfjs's own AdadeltaOptimizer it uses the
 * *new* E[g^2] in the denominator, so its first step is not the plain gradient.
 * Slots are keyed by variable name, so the order of gradients passed in does not matter.
 */
export class Adadelta extends tf.Optimizer {
  static get className(): string {
    return 'ScriptoriumAdadelta';
  }

  readonly config: ResolvedAdadeltaConfig;
  private slots = new Map<string, Slots>();

  constructor(config: AdadeltaConfig = {}) {
    super();
    this.config = resolveAdadeltaConfig(config);
  }

  override applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const entries: Array<[string, tf.Tensor]> = Array.isArray(variableGradients)
      ? variableGradients.map((v) => [v.name, v.tensor])
      : Object.entries(variableGradients);
    const { rho, epsilon, learningRate: lr, weightDecay, decoupledWeightDecay, clipNorm } = this.config;
    const present = entries.filter(([, g]) => g != null);

    if (this.checkFinite(present)) return;

    tf.tidy(() => {
      let scale: tf.Tensor | undefined;
      if (clipNorm !== undefined && present.length) {
        const norm = tf.sqrt(tf.addN(present.map(([, g]) => tf.sum(tf.square(g)))));
        scale = tf.minimum(tf.scalar(1), tf.div(tf.scalar(clipNorm), tf.maximum(norm, tf.scalar(1e-30))));
      }
      for (const [name, grad] of present) {
        const value = tf.engine().registeredVariables[name];
        if (!value) throw new AdadeltaConfigError(`adadelta: no variable named '${name}' for the gradient`);
        const slots = this.slotsFor(name, value);
        let g = scale ? tf.mul(grad, scale) : grad;
        if (weightDecay > 0 && !decoupledWeightDecay) g = tf.add(g, tf.mul(value, weightDecay));
        const eg = tf.add(tf.mul(slots.accumGrad, rho), tf.mul(tf.square(g), 1 - rho));
        const delta = tf.mul(tf.div(tf.sqrt(tf.add(slots.accumDelta, epsilon)), tf.sqrt(tf.add(eg, epsilon))), g);
        const edx = tf.add(tf.mul(slots.accumDelta, rho), tf.mul(tf.square(delta), 1 - rho));
        let next = tf.sub(value, tf.mul(delta, lr));
        if (weightDecay > 0 && decoupledWeightDecay) next = tf.sub(next, tf.mul(value, lr * weightDecay));
        slots.accumGrad.assign(eg);
        slots.accumDelta.assign(edx);
        value.assign(next);
      }
    });
    this.incrementIterations();
  }

  /** Returns true when the step must be skipped; throws for 'throw'. One scalar read per step. */
  private checkFinite(present: Array<[string, tf.Tensor]>): boolean {
    if (!present.length) return false;
    const allFinite = tf.tidy(() => tf.all(tf.stack(present.map(([, g]) => tf.all(tf.isFinite(g))))));
    const ok = allFinite.dataSync()[0] === 1;
    allFinite.dispose();
    if (ok) return false;
    for (const [name, g] of present) {
      const values = g.dataSync();
      const i = values.findIndex((v) => !Number.isFinite(v));
      if (i < 0) continue;
      if (this.config.onNonFinite === 'skip') return true;
      throw new AdadeltaConfigError(
        `adadelta: gradient of '${name}' at flat index ${i} is ${values[i]} (expected a finite number); nothing was changed`,
      );
    }
    return false;
  }

  private slotsFor(name: string, value: tf.Variable): Slots {
    let s = this.slots.get(name);
    if (!s) {
      s = tf.tidy(() => ({
        accumGrad: tf.zerosLike(value).variable(false, `${name}/accum_grad`),
        accumDelta: tf.zerosLike(value).variable(false, `${name}/accum_delta`),
      }));
      this.slots.set(name, s);
    }
    return s;
  }

  override dispose(): void {
    for (const s of this.slots.values()) tf.dispose([s.accumGrad, s.accumDelta]);
    this.slots.clear();
    super.dispose();
  }

  /** [iterations, then E[g^2] and E[dx^2] for each variable], named '<var>/accum_grad' and '<var>/accum_delta'. */
  override async getWeights(): Promise<NamedTensor[]> {
    const weights: NamedTensor[] = [await this.saveIterations()];
    for (const [name, s] of this.slots) {
      weights.push(
        { name: `${name}/accum_grad`, tensor: s.accumGrad },
        { name: `${name}/accum_delta`, tensor: s.accumDelta },
      );
    }
    return weights;
  }

  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const rest = await this.extractIterations(weightValues);
    const byVar = new Map<string, Partial<Record<'accumGrad' | 'accumDelta', tf.Tensor>>>();
    for (const { name, tensor } of rest) {
      const m = /^(.*)\/(accum_grad|accum_delta)$/.exec(name);
      if (!m)
        throw new AdadeltaConfigError(
          `adadelta: unexpected optimizer weight '${name}' (expected '<variable>/accum_grad' or '/accum_delta')`,
        );
      const entry = byVar.get(m[1]!) ?? {};
      entry[m[2] === 'accum_grad' ? 'accumGrad' : 'accumDelta'] = tensor;
      byVar.set(m[1]!, entry);
    }
    for (const s of this.slots.values()) tf.dispose([s.accumGrad, s.accumDelta]);
    this.slots.clear();
    for (const [name, e] of byVar) {
      if (!e.accumGrad || !e.accumDelta)
        throw new AdadeltaConfigError(`adadelta: optimizer weights for '${name}' are incomplete`);
      this.slots.set(name, {
        accumGrad: e.accumGrad.clone().variable(false, `${name}/accum_grad`),
        accumDelta: e.accumDelta.clone().variable(false, `${name}/accum_delta`),
      });
    }
  }

  override getConfig(): tf.serialization.ConfigDict {
    const { clipNorm, ...rest } = this.config;
    return clipNorm === undefined ? { ...rest } : { ...rest, clipNorm };
  }

  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    return new cls(config as AdadeltaConfig);
  }
}

tf.serialization.registerClass(Adadelta);
