import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import {
  ACTIVATIONS,
  ALL_DIRECTIONS,
  checkChoice,
  checkDirections,
  GATES,
  MDLSTMInputError,
  MERGE_MODES,
  type ActivationName,
  type CellOptions,
  type Direction,
  type MergeMode,
} from './config.js';
import { mdlstm, type MDLSTMOpOptions } from './mdlstm-op.js';
import { orthogonalMatrix } from './orthogonal.js';

type Shape = Array<number | null>;

/** Arguments of the MDLSTM layer: the cell's options (CellOptions) and the layer's own; each default is stated once. */
export interface MDLSTMConfig extends LayerArgs, CellOptions {
  /** Hidden units per direction. */
  units: number;
  /** Scan origins. Default all four: ['tl', 'tr', 'bl', 'br']. */
  directions?: Direction[];
  /** Default 'concat': [b, h, w, units * nDir]; 'none' gives [b, h, w, nDir, units]. */
  mergeMode?: MergeMode;
  /** Also return each direction's final h and c ([b, units] each). Default false. */
  returnState?: boolean;
  /** Dropout rate on the layer's output, in training only (never on recurrent connections). Default 0. */
  dropout?: number;
  /** Initial bias of both forget gates. Default 1.0. */
  forgetBiasInit?: number;
  /** Peephole connections from the predecessor cells to the gates. Default false. */
  peephole?: boolean;
  /** Seed of the weight initialisers (Glorot-uniform kernel, orthogonal recurrent kernel). Default: random. */
  seed?: number;
  /**
   * How the scan runs: the op's `implementation` (MDLSTMOpOptions). Default 'auto'. A choice of the machine,
   * not of the model: not in getConfig, so a saved model runs with 'auto' wherever it is loaded.
   */
  implementation?: MDLSTMOpOptions['implementation'];
}

/**
 * The multi-directional 2D LSTM layer of Graves & Schmidhuber (2009) as used by Pham et al. (2014).
 * Input: x [b, h, w, c], or [x, mask] with mask [b, h, w] (1 = valid, 0 = padding).
 * Weights (per direction, stacked): kernel [nDir, c, 5u], recurrentKernel [nDir, 2u, 5u], bias [nDir, 5u],
 * peephole [nDir, 5, u]; gate order input, forget_y, forget_x, output, candidate.
 */
export class MDLSTM extends tfl.layers.Layer {
  static className = 'MDLSTM';
  readonly units: number;
  readonly directions: Direction[];
  readonly mergeMode: MergeMode;
  readonly returnState: boolean;
  readonly dropout: number;
  /**
   * Seed of the next training calls' dropout masks (a trainer sets one per step, so that a resumed run draws
   * the masks the uninterrupted one would have); undefined: unseeded masks. Not part of the config.
   */
  dropoutSeed?: number;
  readonly forgetBiasInit: number;
  readonly peephole: boolean;
  readonly bounded: boolean;
  readonly activation: ActivationName;
  readonly recurrentActivation: ActivationName;
  readonly seed?: number;
  /** The op's implementation; may be changed between calls (benchmarks compare them on one model). */
  implementation: NonNullable<MDLSTMOpOptions['implementation']>;
  private kernel?: tfl.LayerVariable;
  private recurrentKernel?: tfl.LayerVariable;
  private bias?: tfl.LayerVariable;
  private peepholeWeights?: tfl.LayerVariable;

  constructor(config: MDLSTMConfig) {
    super(config);
    if (!Number.isInteger(config.units) || config.units < 1) {
      throw new MDLSTMInputError(`MDLSTM: units = ${config.units} (expected a positive integer)`);
    }
    this.units = config.units;
    this.directions = checkDirections(config.directions ?? [...ALL_DIRECTIONS], 'MDLSTM');
    this.mergeMode = checkChoice(config.mergeMode ?? 'concat', MERGE_MODES, 'MDLSTM: mergeMode');
    this.returnState = config.returnState ?? false;
    this.dropout = config.dropout ?? 0;
    if (!(this.dropout >= 0 && this.dropout < 1))
      throw new MDLSTMInputError(`MDLSTM: dropout = ${this.dropout} (expected a rate in [0, 1))`);
    this.forgetBiasInit = config.forgetBiasInit ?? 1.0;
    this.peephole = config.peephole ?? false;
    this.bounded = config.bounded ?? false;
    this.activation = checkChoice(config.activation ?? 'tanh', ACTIVATIONS, 'MDLSTM: activation');
    this.recurrentActivation = checkChoice(
      config.recurrentActivation ?? 'sigmoid',
      ACTIVATIONS,
      'MDLSTM: recurrentActivation',
    );
    this.seed = config.seed;
    this.implementation = config.implementation ?? 'auto';
  }

  private static xShape(inputShape: Shape | Shape[]): Shape {
    return Array.isArray(inputShape[0]) || inputShape[0] === undefined
      ? (inputShape as Shape[])[0]!
      : (inputShape as Shape);
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = MDLSTM.xShape(inputShape);
    if (shape.length !== 4)
      throw new MDLSTMInputError(
        `MDLSTM: input has shape [${shape}] (expected rank 4: [batch, height, width, channels])`,
      );
    const C = shape[3];
    if (C == null || C < 1)
      throw new MDLSTMInputError(`MDLSTM: the channel dimension must be known and positive, got ${C}`);
    const D = this.directions.length,
      U = this.units,
      G = GATES * U;
    const seed = (k: number) => (this.seed === undefined ? undefined : this.seed + k);
    // Initialise each direction's matrices on their own 2D shapes (so fans are per direction) and from
    // their own seeds (so directions do not start as copies of each other), then stack.
    const perDirection = (init: (d: number) => tf.Tensor) =>
      tf.tidy(() => tf.stack(this.directions.map((_, d) => init(d))));
    this.kernel = this.addWeight('kernel', [D, C, G], 'float32', tfl.initializers.zeros());
    this.recurrentKernel = this.addWeight('recurrent_kernel', [D, 2 * U, G], 'float32', tfl.initializers.zeros());
    this.bias = this.addWeight('bias', [D, G], 'float32', tfl.initializers.zeros());
    this.kernel.write(perDirection((d) => tfl.initializers.glorotUniform({ seed: seed(2 * d) }).apply([C, G])));
    this.recurrentKernel.write(perDirection((d) => orthogonalMatrix(2 * U, G, seed(2 * d + 1))));
    const b = new Float32Array(D * G);
    for (let d = 0; d < D; d++) b.fill(this.forgetBiasInit, d * G + U, d * G + 3 * U); // forget_y and forget_x
    this.bias.write(tf.tensor2d(b, [D, G]));
    if (this.peephole)
      this.peepholeWeights = this.addWeight('peephole', [D, 5, U], 'float32', tfl.initializers.zeros());
    this.built = true;
  }

  override call(
    inputs: tf.Tensor | tf.Tensor[],
    kwargs: { training?: boolean; mask?: tf.Tensor },
  ): tf.Tensor | tf.Tensor[] {
    return tf.tidy(() => {
      const list = Array.isArray(inputs) ? inputs : [inputs];
      const x = list[0]!;
      const mask = list[1];
      const C = x.shape[3];
      if (this.kernel && C !== this.kernel.shape[1]) {
        throw new MDLSTMInputError(
          `MDLSTM '${this.name}': input has ${C} channels but the layer was built for ${this.kernel.shape[1]}`,
        );
      }
      return mdlstm(
        x,
        {
          kernel: this.kernel!.read(),
          recurrentKernel: this.recurrentKernel!.read(),
          bias: this.bias!.read(),
          peephole: this.peepholeWeights?.read(),
        },
        {
          directions: this.directions,
          mergeMode: this.mergeMode,
          mask,
          returnState: this.returnState,
          dropout: this.dropout,
          training: kwargs?.training ?? false,
          seed: this.dropoutSeed,
          bounded: this.bounded,
          activation: this.activation,
          recurrentActivation: this.recurrentActivation,
          implementation: this.implementation,
        },
      );
    });
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    const [b, h, w] = MDLSTM.xShape(inputShape);
    const D = this.directions.length,
      U = this.units;
    const out: Shape =
      this.mergeMode === 'concat'
        ? [b!, h!, w!, D * U]
        : this.mergeMode === 'none'
          ? [b!, h!, w!, D, U]
          : [b!, h!, w!, U];
    if (!this.returnState) return out;
    return [
      out,
      ...this.directions.flatMap(
        () =>
          [
            [b!, U],
            [b!, U],
          ] as Shape[],
      ),
    ];
  }

  override computeMask(): tf.Tensor {
    return null as unknown as tf.Tensor; // the output carries no mask: padded positions are already zero
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = {
      units: this.units,
      directions: this.directions,
      mergeMode: this.mergeMode,
      returnState: this.returnState,
      dropout: this.dropout,
      forgetBiasInit: this.forgetBiasInit,
      peephole: this.peephole,
      bounded: this.bounded,
      activation: this.activation,
      recurrentActivation: this.recurrentActivation,
    };
    if (this.seed !== undefined) config.seed = this.seed;
    return { ...config, ...super.getConfig() };
  }
}
tf.serialization.registerClass(MDLSTM);

/** Creates an MDLSTM layer (the tf.layers.* style factory). */
export function mdlstmLayer(config: MDLSTMConfig): MDLSTM {
  return new MDLSTM(config);
}
