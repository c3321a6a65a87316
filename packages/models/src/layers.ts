import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

type Shape = Array<number | null>;

/** Splits the image into non-overlapping blocks: [b, h, w, c] -> [b, h/bh, w/bw, c*bh*bw] (Pham et al.'s 2x2 input blocks). */
export class SpaceToDepth extends tfl.layers.Layer {
  static className = 'SpaceToDepth';
  readonly blockHeight: number;
  readonly blockWidth: number;

  constructor(args: { blockHeight: number; blockWidth: number; name?: string }) {
    super(args);
    this.blockHeight = args.blockHeight;
    this.blockWidth = args.blockWidth;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      const [b, h, w, c] = x.shape as [number, number, number, number];
      const [bh, bw] = [this.blockHeight, this.blockWidth];
      const blocks = tf.reshape(x, [b, h / bh, bh, w / bw, bw, c]);
      return tf.reshape(tf.transpose(blocks, [0, 1, 3, 2, 4, 5]), [b, h / bh, w / bw, bh * bw * c]);
    });
  }

  override computeOutputShape(s: Shape): Shape {
    const div = (v: number | null, d: number) => (v == null ? null : v / d);
    return [
      s[0]!,
      div(s[1]!, this.blockHeight),
      div(s[2]!, this.blockWidth),
      s[3]! * this.blockHeight * this.blockWidth,
    ];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { blockHeight: this.blockHeight, blockWidth: this.blockWidth, ...super.getConfig() };
  }
}
tf.serialization.registerClass(SpaceToDepth);

/** Sums over the height axis: [b, h, w, c] -> [b, w, c] (Pham et al.'s collapse before CTC). */
export class CollapseHeight extends tfl.layers.Layer {
  static className = 'CollapseHeight';

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => tf.sum(Array.isArray(inputs) ? inputs[0]! : inputs, 1));
  }

  override computeOutputShape(s: Shape): Shape {
    return [s[0]!, s[2]!, s[3]!];
  }
}
tf.serialization.registerClass(CollapseHeight);

/** [b, h, w, 1] -> [b, h, w]: drops the channel axis of a mask. */
export class SqueezeChannel extends tfl.layers.Layer {
  static className = 'SqueezeChannel';

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => tf.squeeze(Array.isArray(inputs) ? inputs[0]! : inputs, [3]));
  }

  override computeOutputShape(s: Shape): Shape {
    return s.slice(0, 3);
  }
}
tf.serialization.registerClass(SqueezeChannel);
