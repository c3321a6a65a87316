/**
 * The browser entry of @scriptorium/models: load a bundle from URLs or `File`s (with every check `Recognizer.load`
 * runs) and recognise decoded line images. No Node built-in and no sharp in its import graph (apps/web's
 * browser-imports test). Training, saving and reading files stay in the main entry.
 */
import './layers.js'; // registers the custom layers a bundle's topology names
export { ARCHS, ModelOptionError } from './architectures.js';
export type { ArchName } from './architectures.js';
export { BUNDLE_FORMAT, BUNDLE_VERSION, BUNDLE_VERSIONS_READ, BundleError } from './bundle-meta.js';
export type { BundleMeta } from './bundle-meta.js';
export { loadBundleFrom } from './bundle-load.js';
export type { BundleFileName, BundleSource, LoadedBundle } from './bundle-load.js';
export { loadBundleFromFiles, loadBundleFromUrl } from './bundle-web.js';
export { HtrModel } from './htr-model.js';
export { LineRecognizer } from './line-recognizer.js';
export type { Recognition, RecognizeOptions } from './line-recognizer.js';
