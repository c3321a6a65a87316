/** A grey-level text-line image, row-major, ink high (1) and background 0. */
export interface LineImage {
  data: Float32Array;
  height: number;
  width: number;
}

export interface LineSample {
  id: string;
  image: LineImage;
  /** The transcription (Unicode NFC). */
  text: string;
}
