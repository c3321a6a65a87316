export { ARCHS, CNN_BLSTM_PUIGCERVER, cnnBlstm, pham2014 } from './architectures.js';
export type { ArchName, BuiltArch, CnnBlstmOptions, Pham2014Options } from './architectures.js';
export { buildModel, HtrModel } from './htr-model.js';
export type { LossAndGrads } from './htr-model.js';
export { CollapseHeight, SpaceToDepth, SqueezeChannel } from './layers.js';
