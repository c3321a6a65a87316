/** A caller mistake in the arguments of a CTC function: names the argument, the sample and the offending value. */
export class CtcInputError extends Error {
  override name = 'CtcInputError';
}

/** Checks one length per sample: an integer in [0, max]. `what` says what `max` is, for the message. */
export function checkLengths(name: string, lengths: ArrayLike<number>, batch: number, max: number, what: string): void {
  if (lengths.length !== batch) {
    throw new CtcInputError(`${name}: has ${lengths.length} entries; expected one per sample (batch ${batch})`);
  }
  for (let b = 0; b < batch; b++) {
    const n = lengths[b]!;
    if (!Number.isInteger(n) || n < 0 || n > max) {
      throw new CtcInputError(`${name}: sample ${b} has length ${n}; expected an integer in [0, ${max}] (${what})`);
    }
  }
}

/** Checks the labels of one sample: integers in [0, classes), none equal to the blank. */
export function checkLabel(name: string, b: number, label: ArrayLike<number>, classes: number, blank: number): void {
  for (let i = 0; i < label.length; i++) {
    const v = label[i]!;
    if (!Number.isInteger(v) || v < 0 || v >= classes || v === blank) {
      throw new CtcInputError(
        `${name}: sample ${b}, position ${i} has value ${v}; expected an integer label in [0, ${classes}) ` +
          `other than the blank (${blank})`,
      );
    }
  }
}

export function checkBlank(blank: number, classes: number): void {
  if (!Number.isInteger(blank) || blank < 0 || blank >= classes) {
    throw new CtcInputError(`blank: ${blank} is not a class index; expected an integer in [0, ${classes})`);
  }
}

export function checkShape(name: string, shape: readonly number[], dataLength: number): void {
  if (shape.length !== 3 || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new CtcInputError(
      `${name}: shape [${shape.join(', ')}]; expected [batch, time, classes] of non-negative integers`,
    );
  }
  const [b, t, c] = shape as [number, number, number];
  if (b * t * c !== dataLength) {
    throw new CtcInputError(`${name}: data has ${dataLength} values but shape [${b}, ${t}, ${c}] needs ${b * t * c}`);
  }
  if (c < 1) throw new CtcInputError(`${name}: has 0 classes; expected at least 1 (the blank)`);
}
