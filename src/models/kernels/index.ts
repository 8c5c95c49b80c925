/**
 * kernels: the dense math of the deep learners. An `Arena` is one shared WebAssembly memory
 * holding a model's dense parameters and activations; its `gemm` runs a WASM SIMD kernel
 * assembled at load time (no toolchain, no dependency), 13–14× the typed-array kernel it falls
 * back to (see README, "Dense math"). Worker threads attach to the same memory for data-parallel
 * training.
 */
export { Arena, pad8 } from './arena.ts';
export type { GemmBackend } from './arena.ts';
export { gemmJs } from './js-gemm.ts';
