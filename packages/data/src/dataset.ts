import type { LineSample } from './line-image.js';

/** A random-access collection of line samples. `load` decodes and normalises. */
export interface Dataset {
  readonly name: string;
  readonly size: number;
  id(i: number): string;
  /** The transcription, without loading the image. */
  text(i: number): string;
  /** The width of the loaded image in px, where it is known without loading it (mnist-lines); for bucketing. */
  width?(i: number): number;
  load(i: number): Promise<LineSample>;
}
