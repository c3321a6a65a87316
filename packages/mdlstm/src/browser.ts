/**
 * The browser entry of @scriptorium/mdlstm: the whole package (it reaches no Node built-in), plus whether this
 * JavaScript engine runs the WebAssembly SIMD kernel, for a page to say which MDLSTM implementation it uses.
 */
export * from './index.js';
export { simdAvailable, simdUnavailableReason } from './kernels/mdlstm-simd.js';
