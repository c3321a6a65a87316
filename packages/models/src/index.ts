export { ARCHS, CNN_BLSTM_PUIGCERVER, cnnBlstm, ModelOptionError, pham2014 } from './architectures.js';
export type { ArchName, ArchOptions, BuiltArch, CnnBlstmOptions, Pham2014Options } from './architectures.js';
export { buildModel, HtrModel } from './htr-model.js';
export type { LossAndGrads } from './htr-model.js';
export { CollapseHeight, SpaceToDepth, SqueezeChannel } from './layers.js';
export { BUNDLE_FORMAT, BUNDLE_VERSION, BUNDLE_VERSIONS_READ, BundleError, loadBundle, saveBundle } from './bundle.js';
export type { BundleMeta, LoadedBundle } from './bundle.js';
export { Recognizer } from './recognizer.js';
export type { Recognition, RecognizeOptions } from './recognizer.js';
