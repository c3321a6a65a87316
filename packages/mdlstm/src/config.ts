/** Scan origin corner: top-left, top-right, bottom-left, bottom-right. */
export type Direction = 'tl' | 'tr' | 'bl' | 'br';
export const ALL_DIRECTIONS: readonly Direction[] = ['tl', 'tr', 'bl', 'br'];

/** How the directions' outputs are combined, as Keras's Bidirectional does for one dimension. */
export type MergeMode = 'concat' | 'sum' | 'mul' | 'ave' | 'none';
export const MERGE_MODES: readonly MergeMode[] = ['concat', 'sum', 'mul', 'ave', 'none'];

export type ActivationName = 'tanh' | 'sigmoid' | 'hardSigmoid' | 'relu' | 'linear';
export const ACTIVATIONS: readonly ActivationName[] = ['tanh', 'sigmoid', 'hardSigmoid', 'relu', 'linear'];

/** The cell's options, shared by the fast op, the reference and the layer. */
export interface CellOptions {
  /** Scale both forget terms by 1/2, so that c grows at most linearly along a scan instead of up to 2x per step. Default false. */
  bounded?: boolean;
  /** Activation of the candidate and of the cell output. Default 'tanh'. */
  activation?: ActivationName;
  /** Activation of the gates. Default 'sigmoid'. */
  recurrentActivation?: ActivationName;
}

export const CELL_DEFAULTS: Required<CellOptions> = {
  bounded: false,
  activation: 'tanh',
  recurrentActivation: 'sigmoid',
};

/** A wrong argument to the MDLSTM op or layer: names the argument and what was expected. */
export class MDLSTMInputError extends Error {
  override name = 'MDLSTMInputError';
}

export function checkDirections(directions: readonly string[], where: string): Direction[] {
  if (directions.length === 0)
    throw new MDLSTMInputError(`${where}: directions is empty (expected a subset of tl, tr, bl, br)`);
  const seen = new Set<string>();
  for (const d of directions) {
    if (!(ALL_DIRECTIONS as readonly string[]).includes(d)) {
      throw new MDLSTMInputError(`${where}: unknown direction '${d}' (expected one of: ${ALL_DIRECTIONS.join(', ')})`);
    }
    if (seen.has(d)) throw new MDLSTMInputError(`${where}: direction '${d}' is given twice`);
    seen.add(d);
  }
  return directions as Direction[];
}

export function checkChoice<T extends string>(value: string, choices: readonly T[], where: string): T {
  if (!(choices as readonly string[]).includes(value)) {
    throw new MDLSTMInputError(`${where}: unknown value '${value}' (expected one of: ${choices.join(', ')})`);
  }
  return value as T;
}

/** Which axes a direction flips so that its scan runs from the top-left in the flipped frame. */
export function flipsOf(d: Direction): { flipY: boolean; flipX: boolean } {
  return { flipY: d === 'bl' || d === 'br', flipX: d === 'tr' || d === 'br' };
}

/**
 * Weight layout, per direction d (stacked on a leading axis so that all directions run in the same ops).
 * Gate order in every 5*units axis: input, forget_y, forget_x, output, candidate.
 * - kernel          [nDir, channels, 5*units]     W
 * - recurrentKernel [nDir, 2*units, 5*units]      rows 0..units-1 = U_y (from h_y), rows units..2*units-1 = U_x (from h_x)
 * - bias            [nDir, 5*units]
 * - peephole        [nDir, 5, units] (optional)   input<-c_y, input<-c_x, forget_y<-c_y, forget_x<-c_x, output<-c
 */
export const GATES = 5;
