/**
 * WebAssembly SIMD kernels of FM and FFM: the pair loops and AdaGrad steps that scalar JS runs at
 * ~30 cycles per coordinate take ~2 per coordinate here (f32x4 lanes over the factor dimension,
 * square roots and divisions four at a time, as libffm does with SSE). A module is assembled per
 * model with its layout baked in as constants (no toolchain, no dependency; ~1 kB), over one
 * WebAssembly.Memory that holds the row scratch, the factor table and the mini-batch gradient sums.
 *
 * The linear term's table lives in the same memory. The JS side writes a row's tokens into the
 * scratch — the n non-bias ones first (factor row of each token for FM, its first factor row and
 * field for FFM), then the bias: bucket and value of all t — and calls:
 *   forward(n, t) → the row's logit: linear term plus interactions (FM keeps Σ v·x in memory for backward);
 *   backward(n, t, κ, lr, l2, eps, l2Linear) → AdaGrad steps on every weight and factor vector the row used (batchSize 1);
 *   accumulate(n, t, κ) → adds the row's gradients to the batch's sums, kept per bucket (mini-batches);
 *   apply(scale, lr, l2, eps, l2Linear) → one AdaGrad step per weight and vector the batch used, with scale · its sum; clears the sums.
 * AdaGrad as torch.optim.Adagrad: g += l2·w; G += g²; w −= lr·g/(√G + eps). With an FTRL linear term
 * (linearSteps false) the kernels only read the linear weights; JS steps them.
 */
import { PctrError } from '../../core/index.ts';
import { name, section, uleb, vec } from '../kernels/wasm-asm.ts';
import { kernelFunctions, type Addresses } from './factor-kernel-code.ts';

export type FactorKernelKind = 'fm' | 'ffm';

export interface FactorKernels {
  readonly memory: WebAssembly.Memory;
  /** The factor table's floats (rows × 2·dim: FM's vectors each followed by its AdaGrad sums; FFM's bucket's vectors, then their sums). */
  readonly table: Float32Array;
  /** The linear term's floats (buckets × linearStride: each weight, then its optimizer state). */
  readonly linear: Float32Array;
  /** Row scratch: factor row (FM) or first factor row (FFM) of each token, its field, its value, its bucket. */
  readonly base: Int32Array;
  readonly field: Int32Array;
  readonly value: Float32Array;
  readonly bucket: Int32Array;
  forward(n: number, t: number): number;
  backward(n: number, t: number, kappa: number, lr: number, l2: number, eps: number, l2Linear: number): void;
  accumulate(n: number, t: number, kappa: number): void;
  apply(scale: number, lr: number, l2: number, eps: number, l2Linear: number): void;
}

export interface FactorKernelLayout {
  readonly kind: FactorKernelKind;
  /** Hash buckets, factor vectors per bucket (FM 1, FFM fields − 1) and floats per vector (a multiple of 4). */
  readonly buckets: number;
  readonly perBucket: number;
  readonly dim: number;
  /** Most tokens in a row, and most buckets one mini-batch can touch (0: no mini-batches). */
  readonly maxTokens: number;
  readonly maxBatchBuckets: number;
  /** Floats per linear weight (the weight and its optimizer state), and whether the kernels step it (AdaGrad, stride 2). */
  readonly linearStride: number;
  readonly linearSteps: boolean;
}

const align = (x: number, to: number): number => Math.ceil(x / to) * to;
const PAGE = 65536;

/** Kernels for the layout, or null where the runtime does not validate WASM SIMD. */
export function factorKernels(layout: FactorKernelLayout): FactorKernels | null {
  const { kind, buckets, perBucket, dim, maxTokens, maxBatchBuckets, linearStride, linearSteps } = layout;
  if (dim % 4 !== 0 || (linearSteps && linearStride !== 2)) return null;
  const rows = buckets * perBucket;
  const rowBytes = 8 * dim;
  const words = Math.ceil(perBucket / 32);
  const M = maxTokens;
  const at = { base: 0, field: 4 * M, value: 8 * M, slots: 12 * M, addr: 16 * M, foff: 20 * M, bucket: 24 * M, count: 28 * M, sums: align(28 * M + 4, 16) };
  const table = align(at.sums + 4 * dim, 64);
  const lin = table + rows * rowBytes;
  const linBytes = 4 * linearStride;
  // Mini-batch sums are kept per bucket (a slot), so finding a token's slot reads a small array.
  const slotOf = align(lin + buckets * linBytes, 16);
  const touched = slotOf + (maxBatchBuckets > 0 ? 4 * buckets : 0);
  const mask = touched + 4 * maxBatchBuckets;
  const grad = align(mask + 4 * words * maxBatchBuckets, 16);
  // A slot: the sums of its bucket's factor vectors, then (linearSteps) its linear weight's in a 16-byte cell.
  const bytes = grad + (4 * dim * perBucket + (linearSteps ? 16 : 0)) * maxBatchBuckets;
  if (bytes > 2 ** 32 - PAGE) {
    throw new PctrError('PCTR_VALIDATION', `${kind} factor table of ${rows} rows × ${dim} needs ${(bytes / 2 ** 30).toFixed(1)} GiB, more than WebAssembly's 4 GiB: lower bits or dim`);
  }
  // FFM keeps a bucket's weights together, then their AdaGrad sums (EmbeddingTable's group layout).
  const [vecBytes, stateOff] = kind === 'fm' ? [rowBytes, 4 * dim] : [4 * dim, 4 * dim * perBucket];
  const module = moduleBytes(kind, { ...at, table, slotOf, touched, mask, grad, words, per: perBucket, rowBytes, chunks: dim / 4, vecBytes, stateOff, lin, linBytes, linearSteps });
  if (!WebAssembly.validate(module)) return null;
  const memory = new WebAssembly.Memory({ initial: Math.ceil(bytes / PAGE), maximum: Math.ceil(bytes / PAGE) });
  const exports = new WebAssembly.Instance(new WebAssembly.Module(module), { env: { memory } }).exports as unknown as Pick<FactorKernels, 'forward' | 'backward' | 'accumulate' | 'apply'>;
  const buffer = memory.buffer;
  return {
    memory,
    table: new Float32Array(buffer, table, rows * 2 * dim),
    linear: new Float32Array(buffer, lin, buckets * linearStride),
    base: new Int32Array(buffer, at.base, maxTokens),
    field: new Int32Array(buffer, at.field, maxTokens),
    value: new Float32Array(buffer, at.value, maxTokens),
    bucket: new Int32Array(buffer, at.bucket, maxTokens),
    forward: exports.forward,
    backward: exports.backward,
    accumulate: exports.accumulate,
    apply: exports.apply,
  };
}

function moduleBytes(kind: FactorKernelKind, m: Addresses): Uint8Array {
  const fns = kernelFunctions(kind, m);
  const types = fns.map((f) => [0x60, ...vec(f.params.map((t) => [t])), ...vec(f.results.map((t) => [t]))]);
  const exported = ['slot', 'forward', 'backward', 'accumulate', 'apply'];
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(2, vec([[...name('env'), ...name('memory'), 0x02, 0x00, ...uleb(1)]])),
    ...section(3, vec(fns.map((_, i) => uleb(i)))),
    ...section(7, vec(exported.map((n, i) => [...name(n), 0x00, ...uleb(i)]))),
    ...section(10, vec(fns.map((f) => f.bytes()))),
  ]);
}

