/**
 * The browser-safe part of @scriptorium/data: no Node built-in and no sharp in its import graph (checked by
 * apps/web's browser-imports test). Normalisation is the same code as in Node, so a line gives the same model
 * input in both; grey PNGs decode through the same JavaScript (png-grey.ts), inflated by DecompressionStream.
 */
export { Alphabet } from './alphabet.js';
export type { AlphabetJson, UnknownPolicy } from './alphabet.js';
export { collate } from './collate.js';
export type { Batch, CollateOptions } from './collate.js';
export { DataError } from './errors.js';
export type { LineImage, LineSample } from './line-image.js';
export { DEFAULT_PREPROCESS, inkWindow, normalizeLine, normalizeLineSync, paperLevel } from './normalize.js';
export type { PreprocessConfig } from './normalize.js';
export { decodeGreyPngStream } from './png-stream.js';
export { rawPixelsToLine } from './raw-pixels.js';
export type { RawPixels } from './raw-pixels.js';
