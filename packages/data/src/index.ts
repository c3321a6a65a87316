export { Alphabet } from './alphabet.js';
export type { AlphabetJson, UnknownPolicy } from './alphabet.js';
export { AUGMENT_PRESETS, augmentLine, DEFAULT_AUGMENT } from './augment.js';
export { parseAugmentConfig, parseAugmentSpec } from './augment-config.js';
export type { AugmentConfig } from './augment.js';
export { collate } from './collate.js';
export type { Batch, CollateOptions } from './collate.js';
export type { Dataset } from './dataset.js';
export { DataError } from './errors.js';
export { gtFolderDataset } from './gt-folder.js';
export type { GtFolderOptions } from './gt-folder.js';
export { iamDataset } from './iam.js';
export type { IamOptions } from './iam.js';
export { decodeImage, loadLine, writeLinePng, writeSplit } from './image-io.js';
export { DEFAULT_PREPROCESS, inkWindow, normalizeLine, normalizeLineSync, paperLevel } from './normalize.js';
export { decodeGreyPng } from './png.js';
export type { ImageInput } from './image-io.js';
export type { PreprocessConfig } from './normalize.js';
export { LineCache } from './line-cache.js';
export type { LineCacheOptions, LineCacheStats } from './line-cache.js';
export type { LineImage, LineSample } from './line-image.js';
export { manifestDataset } from './manifest.js';
export {
  drawMnistLayout,
  mnistDigitPools,
  MNIST_LAYOUT_DEFAULTS,
  MNIST_UNSEEN_DEFAULTS,
  MNIST_UNSEEN_LAYOUT,
  MNIST_WARMUP_LAYOUT,
  mnistLines,
  mnistUnseenLines,
  SPLIT_FRACTIONS,
  splitRange,
} from './mnist-lines.js';
export type { ComposedLine, MnistLayoutOptions, MnistLinesDataset, MnistLinesOptions, Split } from './mnist-lines.js';
export {
  DATA_SPECS,
  isSyntheticSpec,
  openDataset,
  parseSpecOptions,
  syntheticSpec,
  SYNTHETIC_KINDS,
} from './open-dataset.js';
export type { OpenDatasetOptions } from './open-dataset.js';
export { pageXmlDataset } from './page-xml.js';
export {
  pageXmlWithText,
  readPageForRecognition,
  type PageForRecognition,
  type PageLineText,
  type PageRecognitionLine,
} from './page-xml-write.js';
export {
  checkEncodedImagePixels,
  checkImagePixels,
  DEFAULT_MAX_IMAGE_PIXELS,
  MAX_IMAGE_PIXELS_ENV,
  maxImagePixels,
  setMaxImagePixels,
} from './pixel-cap.js';
export { augmentSample, loadSample, Prefetcher, sampleSeed } from './prefetch.js';
export type { PrefetchOptions } from './prefetch.js';
export { BatchSampler, paddingRatio, shard } from './sampler.js';
export type { BatchSamplerOptions, SamplerState } from './sampler.js';
export { skipBad } from './skip-bad.js';
export type { SkipBadOptions, SkippedSample, SkippingLoader } from './skip-bad.js';
export { TEXTLINES_CHARSET } from './textlines/charset.js';
export { TEXTLINES_YEARS, textLinesCorpus } from './textlines/corpus.js';
export { fontsOfSplit, TEXTLINE_FONTS } from './textlines/fonts.js';
export type { TextLineFont } from './textlines/fonts.js';
export { TEXTLINES_DEFAULTS } from './textlines/options.js';
export type { TextLinesConfig } from './textlines/options.js';
export { textLines } from './textlines/textlines.js';
export type { TextLineSample, TextLinesOptions } from './textlines/textlines.js';
