import * as tfl from '@tensorflow/tfjs-layers';
import { DEFAULT_PREPROCESS } from '@scriptorium/data/browser';
import { mdlstmLayer, type CellOptions } from '@scriptorium/mdlstm';
import { CollapseHeight, Projection, SpaceToDepth, SqueezeChannel } from './layers.js';

export type ArchName = 'pham2014' | 'cnn-blstm';
export const ARCHS: readonly ArchName[] = ['pham2014', 'cnn-blstm'];

/**
 * Pham, Bluche, Kermorvant & Louradour (2014), with every size configurable. Defaults are stated here once.
 * `bounded` is the MDLSTM cell's option (CellOptions), given to every MDLSTM layer: both forget terms halved, so that
 * the cell state grows at most linearly along a scan instead of up to 2x per step. Default false (the paper's cell,
 * Graves et al.'s). With the paper's cell and forget biases at 1, c compounds over the 2D scan and saturates
 * tanh(c); bounded cells trained mnist-lines about 2x faster (docs/benchmarks/main-job.md).
 */
export interface Pham2014Options extends Pick<CellOptions, 'bounded'> {
  /** Classes including the CTC blank. */
  alphabetSize: number;
  /** Input line height, px. Default DEFAULT_PREPROCESS.height (32); must be divisible by blockHeight * conv heights. */
  height?: number;
  /** Dropout on the outputs of the MDLSTM layers (training only). Default 0.5 (the paper's). */
  dropout?: number;
  /** Input blocks (space-to-depth). Default 2x2 (the paper's). */
  blockHeight?: number;
  blockWidth?: number;
  /** MDLSTM units per direction for the three MDLSTM layers. Default [2, 10, 50] (the paper's). */
  units?: [number, number, number];
  /** Features of the two non-overlapping convolutions. Default [6, 20] (the paper's). */
  convFeatures?: [number, number];
  /** Convolution windows, height x width. Default 4x2 (the paper's "2x4" read as 4 high, 2 wide). */
  convHeight?: number;
  convWidth?: number;
  /** Weight initialisation seed. Default: random. */
  seed?: number;
}

export interface CnnBlstmOptions {
  alphabetSize: number;
  height?: number; // default DEFAULT_PREPROCESS.height (32)
  /** Features of the 3x3 convolution blocks; each of the first `pools` blocks ends with a 2x2 max-pool. Default [16, 32, 48]. */
  convFeatures?: number[];
  pools?: number; // default 2
  /** Units of each bidirectional LSTM layer. Default [64, 64]. */
  lstmUnits?: number[];
  /** Dropout before each LSTM and the output layer. Default 0.25. */
  dropout?: number;
  seed?: number;
}

/** Puigcerver (2017)'s sizes: five conv blocks (16, 32, 48, 64, 80), three max-pools, five BLSTMs of 256, dropout 0.5. */
export const CNN_BLSTM_PUIGCERVER: Omit<CnnBlstmOptions, 'alphabetSize'> = {
  height: 128,
  convFeatures: [16, 32, 48, 64, 80],
  pools: 3,
  lstmUnits: [256, 256, 256, 256, 256],
  dropout: 0.5,
};

/** Each architecture's options, by name. */
export interface ArchOptions {
  pham2014: Pham2014Options;
  'cnn-blstm': CnnBlstmOptions;
}

export interface BuiltArch {
  model: tfl.LayersModel;
  /** Input widths are padded to a multiple of this, so output lengths are exact. */
  widthMultiple: number;
  /** Input pixels per output frame. */
  widthReduction: number;
  /** Whether the model takes [image, mask] (mask [b, h, w, 1], 1 valid) or the image alone. */
  usesMask: boolean;
  hyperparameters: Record<string, unknown>;
}

/** An architecture option the model cannot be built with; `option` names it (e.g. 'height'). */
export class ModelOptionError extends RangeError {
  constructor(
    readonly option: string,
    message: string,
  ) {
    super(message);
    this.name = 'ModelOptionError';
  }
}

/**
 * Refuses option names the architecture does not know. A job or checkpoint written by a newer version may
 * carry an option this version would otherwise ignore, silently building another model (a worker joining a
 * newer coordinator, say); the complete key lists are checked against the option types at compile time.
 */
function checkOptionNames(arch: ArchName, options: object, known: Record<string, true>): void {
  for (const key of Object.keys(options)) {
    if (!Object.hasOwn(known, key)) {
      throw new ModelOptionError(
        key,
        `${arch}: unknown model option '${key}' (expected one of: ${Object.keys(known).join(', ')}); written by a newer version?`,
      );
    }
  }
}

const PHAM2014_OPTIONS: Record<keyof Pham2014Options, true> = {
  alphabetSize: true,
  height: true,
  dropout: true,
  blockHeight: true,
  blockWidth: true,
  units: true,
  convFeatures: true,
  convHeight: true,
  convWidth: true,
  bounded: true,
  seed: true,
};
const CNN_BLSTM_OPTIONS: Record<keyof CnnBlstmOptions, true> = {
  alphabetSize: true,
  height: true,
  convFeatures: true,
  pools: true,
  lstmUnits: true,
  dropout: true,
  seed: true,
};

export function pham2014(options: Pham2014Options): BuiltArch {
  checkOptionNames('pham2014', options, PHAM2014_OPTIONS);
  const o = {
    height: DEFAULT_PREPROCESS.height,
    dropout: 0.5,
    blockHeight: 2,
    blockWidth: 2,
    units: [2, 10, 50] as [number, number, number],
    convFeatures: [6, 20] as [number, number],
    convHeight: 4,
    convWidth: 2,
    bounded: false,
    ...options,
  };
  const vertical = o.blockHeight * o.convHeight * o.convHeight;
  if (o.height % vertical !== 0) {
    throw new ModelOptionError(
      'height',
      `pham2014: height ${o.height} must be a multiple of blockHeight * convHeight^2 = ${vertical}`,
    );
  }
  const seed = (k: number) => (o.seed === undefined ? undefined : o.seed + 17 * k);
  const image = tfl.input({ shape: [o.height, null, 1], name: 'image' });
  const mask = tfl.input({ shape: [o.height, null, 1], name: 'mask' });
  // Masks at each resolution: a cell is valid if any pixel under it is.
  const pool = (m: tfl.SymbolicTensor, h: number, w: number, name: string) =>
    tfl.layers.maxPooling2d({ poolSize: [h, w], strides: [h, w], name }).apply(m) as tfl.SymbolicTensor;
  const squeeze = (m: tfl.SymbolicTensor, name: string) => new SqueezeChannel({ name }).apply(m) as tfl.SymbolicTensor;
  const m1 = pool(mask, o.blockHeight, o.blockWidth, 'mask_blocks');
  const m2 = pool(m1, o.convHeight, o.convWidth, 'mask_conv1');
  const m3 = pool(m2, o.convHeight, o.convWidth, 'mask_conv2');

  let x = new SpaceToDepth({ blockHeight: o.blockHeight, blockWidth: o.blockWidth, name: 'blocks' }).apply(
    image,
  ) as tfl.SymbolicTensor;
  const md = (u: number, k: number, input: tfl.SymbolicTensor, m: tfl.SymbolicTensor) =>
    mdlstmLayer({ units: u, dropout: o.dropout, bounded: o.bounded, seed: seed(k), name: `mdlstm${k}` }).apply([
      input,
      squeeze(m, `mask${k}`),
    ]) as tfl.SymbolicTensor;
  // A non-overlapping convolution (stride = window) is a space-to-depth of the windows followed by a
  // matmul: written that way it trains on every backend (wasm has no Conv2DBackpropFilter kernel).
  const conv = (f: number, k: number, input: tfl.SymbolicTensor) => {
    const windows = new SpaceToDepth({
      blockHeight: o.convHeight,
      blockWidth: o.convWidth,
      name: `conv${k}_windows`,
    }).apply(input);
    return new Projection({
      units: f,
      useBias: false,
      activation: 'tanh',
      kernelInitializer: tfl.initializers.glorotUniform({ seed: seed(10 + k) }),
      name: `conv${k}`,
    }).apply(windows) as tfl.SymbolicTensor;
  };
  x = md(o.units[0], 1, x, m1);
  x = conv(o.convFeatures[0], 1, x);
  x = md(o.units[1], 2, x, m2);
  x = conv(o.convFeatures[1], 2, x);
  x = md(o.units[2], 3, x, m3);
  // One fully connected layer on the four directions' concatenated outputs = one per direction, summed.
  x = new Projection({
    units: o.alphabetSize,
    kernelInitializer: tfl.initializers.glorotUniform({ seed: seed(20) }),
    name: 'output',
  }).apply(x) as tfl.SymbolicTensor;
  const logits = new CollapseHeight({ name: 'collapse' }).apply(x) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: [image, mask], outputs: logits, name: 'pham2014' });
  const reduction = o.blockWidth * o.convWidth * o.convWidth;
  return { model, widthMultiple: reduction, widthReduction: reduction, usesMask: true, hyperparameters: o };
}

export function cnnBlstm(options: CnnBlstmOptions): BuiltArch {
  checkOptionNames('cnn-blstm', options, CNN_BLSTM_OPTIONS);
  const o = {
    height: DEFAULT_PREPROCESS.height,
    convFeatures: [16, 32, 48],
    pools: 2,
    lstmUnits: [64, 64],
    dropout: 0.25,
    ...options,
  };
  const down = 2 ** o.pools;
  if (o.height % down !== 0)
    throw new ModelOptionError('height', `cnn-blstm: height ${o.height} must be a multiple of 2^pools = ${down}`);
  const seed = (k: number) => (o.seed === undefined ? undefined : o.seed + 31 * k);
  const image = tfl.input({ shape: [o.height, null, 1], name: 'image' });
  let x: tfl.SymbolicTensor = image;
  o.convFeatures.forEach((f, k) => {
    x = tfl.layers
      .conv2d({
        filters: f,
        kernelSize: 3,
        padding: 'same',
        useBias: false,
        kernelInitializer: tfl.initializers.heNormal({ seed: seed(k) }),
        name: `conv${k + 1}`,
      })
      .apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.batchNormalization({ name: `bn${k + 1}` }).apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.leakyReLU({ alpha: 0.01, name: `lrelu${k + 1}` }).apply(x) as tfl.SymbolicTensor;
    if (k < o.pools)
      x = tfl.layers.maxPooling2d({ poolSize: 2, strides: 2, name: `pool${k + 1}` }).apply(x) as tfl.SymbolicTensor;
  });
  const h = o.height / down,
    f = o.convFeatures[o.convFeatures.length - 1]!;
  // [b, h, w, f] -> [b, w, h*f]: each column becomes one frame.
  x = tfl.layers.permute({ dims: [2, 1, 3], name: 'columns' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.reshape({ targetShape: [-1, h * f], name: 'frames' }).apply(x) as tfl.SymbolicTensor;
  o.lstmUnits.forEach((u, k) => {
    x = tfl.layers.dropout({ rate: o.dropout, name: `drop${k + 1}` }).apply(x) as tfl.SymbolicTensor;
    x = tfl.layers
      .bidirectional({
        layer: tfl.layers.lstm({
          units: u,
          returnSequences: true,
          recurrentActivation: 'sigmoid',
          name: `lstm${k + 1}`,
        }),
        mergeMode: 'concat',
        name: `blstm${k + 1}`,
      })
      .apply(x) as tfl.SymbolicTensor;
  });
  x = tfl.layers.dropout({ rate: o.dropout, name: 'drop_out' }).apply(x) as tfl.SymbolicTensor;
  const logits = tfl.layers.dense({ units: o.alphabetSize, name: 'output' }).apply(x) as tfl.SymbolicTensor;
  return {
    model: tfl.model({ inputs: image, outputs: logits, name: 'cnn-blstm' }),
    widthMultiple: down,
    widthReduction: down,
    usesMask: false,
    hyperparameters: o,
  };
}
