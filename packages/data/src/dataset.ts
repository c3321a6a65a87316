import type { LineSample } from './line-image.js';

/** A random-access collection of line samples. `load` decodes and normalises. */
export interface Dataset {
  readonly name: string;
  readonly size: number;
  id(i: number): string;
  /** The transcription, without loading the image. */
  text(i: number): string;
  load(i: number): Promise<LineSample>;
}
