import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

type Initializer = ReturnType<typeof tfl.initializers.glorotUniform>;
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

/**
 * `activation(x · kernel + bias)` over the last axis: tfl.layers.dense's math and weight names (`<name>/kernel`,
 * `<name>/bias`), with a gradient that multiplies only untransposed matrices. tfjs-wasm runs a matMul with
 * `transposeA` or `transposeB` (what the generic gradient of a matMul asks for) in a plain loop instead of
 * XNNPACK: 5 to 10x slower on pham2014's layer sizes (docs/benchmarks/models.md). Here the small operand is
 * transposed explicitly instead: dx = dy · transpose(kernel), dkernel = transpose(transpose(dy) · x).
 */
export class Projection extends tfl.layers.Layer {
  static className = 'Projection';
  readonly units: number;
  readonly useBias: boolean;
  readonly activation: 'linear' | 'tanh';
  private readonly kernelInitializer: Initializer;
  private kernel?: tfl.LayerVariable;
  private bias?: tfl.LayerVariable;

  constructor(args: {
    units: number;
    useBias?: boolean;
    activation?: 'linear' | 'tanh';
    kernelInitializer?: Initializer;
    name?: string;
  }) {
    super(args);
    this.units = args.units;
    this.useBias = args.useBias ?? true;
    this.activation = args.activation ?? 'linear';
    if (this.activation !== 'linear' && this.activation !== 'tanh')
      throw new Error(`Projection '${this.name}': activation '${String(this.activation)}' (expected linear or tanh)`);
    this.kernelInitializer = args.kernelInitializer ?? tfl.initializers.glorotUniform({});
  }

  override build(inputShape: Shape | Shape[]): void {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    const inputDim = s[s.length - 1];
    if (inputDim == null) throw new Error(`${this.name}: the last input axis must have a known size`);
    this.kernel = this.addWeight('kernel', [inputDim, this.units], 'float32', this.kernelInitializer);
    if (this.useBias) this.bias = this.addWeight('bias', [this.units], 'float32', tfl.initializers.zeros());
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      const y = project(x, this.kernel!.read() as tf.Tensor2D, this.bias?.read() as tf.Tensor1D | undefined);
      return this.activation === 'tanh' ? tf.tanh(y) : y;
    });
  }

  override computeOutputShape(s: Shape): Shape {
    return [...s.slice(0, -1), this.units];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { units: this.units, useBias: this.useBias, activation: this.activation, ...super.getConfig() };
  }
}
tf.serialization.registerClass(Projection);

/**
 * x · kernel (+ bias) over the last axis of x, with the gradient described at {@link Projection}. Its forward
 * intermediates are tfjs tensors: call it inside tf.tidy (Projection.call does).
 */
export function project(x: tf.Tensor, kernel: tf.Tensor2D, bias?: tf.Tensor1D): tf.Tensor {
  const [k, m] = kernel.shape;
  const outShape = [...x.shape.slice(0, -1), m];
  const inputs = bias ? [x, kernel, bias] : [x, kernel];
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const [xIn, w, b] = args.slice(0, -1) as [tf.Tensor, tf.Tensor2D, tf.Tensor1D?];
    const x2 = tf.reshape(xIn, [-1, k]);
    save([x2, w]);
    const y2 = b ? tf.add(tf.matMul(x2, w), b) : tf.matMul(x2, w);
    return {
      value: tf.reshape(y2, outShape),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
        const dy2 = tf.reshape(dy, [-1, m]) as tf.Tensor2D;
        const dx = tf.reshape(tf.matMul(dy2, tf.transpose(ws)), xIn.shape);
        const dw = tf.transpose(tf.matMul(tf.transpose(dy2), xs));
        return b ? [dx, dw, tf.sum(dy2, 0)] : [dx, dw];
      },
    };
  });
  return (op as (...t: tf.Tensor[]) => tf.Tensor)(...inputs);
}
