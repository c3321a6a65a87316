/** The browser-safe part of @scriptorium/ctc: everything but reading an LM's training text from a file. */
export { beamSearchDecode } from './beam-search-decode.js';
export type { BeamSearchOptions, LmScorer } from './beam-search-decode.js';
export { CharNgramLm } from './char-ngram-lm.js';
export type { CharNgramLmJson, CharNgramLmOptions } from './char-ngram-lm.js';
export { ctcForward, ctcForwardBackward } from './ctc-forward-backward.js';
export type { CtcForwardBackwardOptions, CtcForwardBackwardResult } from './ctc-forward-backward.js';
export { ctcLoss } from './ctc-loss.js';
export type { CtcLossOptions } from './ctc-loss.js';
export { cer, wer } from './error-rate.js';
export type { ErrorRate } from './error-rate.js';
export { CtcInputError } from './errors.js';
export { forcedAlign } from './forced-align.js';
export type { Alignment } from './forced-align.js';
export { greedyDecode } from './greedy-decode.js';
export type { DecodeResult, GreedyDecodeOptions } from './greedy-decode.js';
export { requiredFrames } from './extended-label.js';
export { levenshtein } from './levenshtein.js';
export type { LogitsInput } from './logits-input.js';
