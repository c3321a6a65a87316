import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import { checkChoice, MDLSTMInputError, MERGE_MODES, type MergeMode } from './config.js';

type Shape = Array<number | null>;

export interface SeparableLSTM2DConfig extends LayerArgs {
  /** Units of each LSTM (rows and columns, each direction). */
  units: number;
  /** How the two directions of each pass combine. Default 'concat'. 'none' is not offered here. */
  mergeMode?: Exclude<MergeMode, 'none'>;
  /** Dropout on the inputs of each LSTM (feed-forward only). Default 0. */
  dropout?: number;
}

/**
 * The CNN-features pattern of feeding rows to one LSTM and columns to another: a bidirectional LSTM
 * along each row, then a bidirectional LSTM along each column of the result, built on tfjs-layers'
 * LSTM and Bidirectional. [b, h, w, c] -> [b, h, w, units * (2 if concat)].
 */
export class SeparableLSTM2D extends tfl.layers.Layer {
  static className = 'SeparableLSTM2D';
  readonly units: number;
  readonly mergeMode: Exclude<MergeMode, 'none'>;
  readonly lstmDropout: number;
  private readonly rows: tfl.layers.Layer;
  private readonly cols: tfl.layers.Layer;

  constructor(config: SeparableLSTM2DConfig) {
    super(config);
    if (!Number.isInteger(config.units) || config.units < 1) {
      throw new MDLSTMInputError(`SeparableLSTM2D: units = ${config.units} (expected a positive integer)`);
    }
    this.units = config.units;
    this.mergeMode = checkChoice(
      config.mergeMode ?? 'concat',
      MERGE_MODES.filter((m) => m !== 'none') as Array<Exclude<MergeMode, 'none'>>,
      'SeparableLSTM2D: mergeMode',
    );
    this.lstmDropout = config.dropout ?? 0;
    const bi = (name: string) =>
      tfl.layers.bidirectional({
        name: `${this.name}_${name}`,
        mergeMode: this.mergeMode,
        layer: tfl.layers.lstm({
          name: `${name}_lstm`,
          units: this.units,
          returnSequences: true,
          recurrentActivation: 'sigmoid',
          dropout: this.lstmDropout,
        }),
      });
    this.rows = bi('rows');
    this.cols = bi('cols');
  }

  private featuresOut(): number {
    return this.mergeMode === 'concat' ? 2 * this.units : this.units;
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    if (shape.length !== 4 || shape[3] == null) {
      throw new MDLSTMInputError(
        `SeparableLSTM2D: input has shape [${shape}] (expected [batch, height, width, channels] with known channels)`,
      );
    }
    this.rows.build([null, shape[2]!, shape[3]]);
    this.cols.build([null, shape[1]!, this.featuresOut()]);
    this.built = true;
  }

  override get trainableWeights(): tfl.LayerVariable[] {
    return [...this.rows.trainableWeights, ...this.cols.trainableWeights];
  }

  override get nonTrainableWeights(): tfl.LayerVariable[] {
    return [...this.rows.nonTrainableWeights, ...this.cols.nonTrainableWeights];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      if (x.rank !== 4) throw new MDLSTMInputError(`SeparableLSTM2D: input has shape [${x.shape}] (expected rank 4)`);
      const [b, h, w, c] = x.shape as [number, number, number, number];
      const F = this.featuresOut();
      const rowsOut = this.rows.apply(tf.reshape(x, [b * h, w, c]), kwargs) as tf.Tensor; // [b*h, w, F]
      const byCol = tf.transpose(tf.reshape(rowsOut, [b, h, w, F]), [0, 2, 1, 3]); // [b, w, h, F]
      const colsOut = this.cols.apply(tf.reshape(byCol, [b * w, h, F]), kwargs) as tf.Tensor; // [b*w, h, F]
      return tf.transpose(tf.reshape(colsOut, [b, w, h, F]), [0, 2, 1, 3]);
    });
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const [b, h, w] = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    return [b!, h!, w!, this.featuresOut()];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { units: this.units, mergeMode: this.mergeMode, dropout: this.lstmDropout, ...super.getConfig() };
  }
}
tf.serialization.registerClass(SeparableLSTM2D);

export function separableLstm2d(config: SeparableLSTM2DConfig): SeparableLSTM2D {
  return new SeparableLSTM2D(config);
}
