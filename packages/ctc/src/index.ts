/** @scriptorium/ctc: the browser-safe part (browser.ts) and reading an LM's training text from a file (Node only). */
export * from './browser.js';
export { charNgramLmFromFile } from './char-ngram-lm-file.js';
