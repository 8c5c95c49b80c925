/**
 * One block of float memory that the dense kernels work in: a shared WebAssembly.Memory, so the
 * WASM SIMD GEMM reads it directly and worker threads can attach to the same bytes (data-parallel
 * training). Offsets are in floats. `gemm` uses the WASM kernel when the runtime validates it
 * (Node 20 does), else the typed-array kernel; both compute each output row in the same order,
 * so a row's result does not depend on how many rows are computed with it.
 */
import { PctrError } from '../../core/index.ts';
import { biasReluJs, crossBackwardJs, crossForwardJs, gatherRowsJs, reluBackwardJs } from './js-elementwise.ts';
import { gemmJs, gemmTnJs } from './js-gemm.ts';
import { moduleBytes } from './wasm-asm.ts';
import { elementwiseFunctions } from './wasm-elementwise.ts';
import { gemmFunctions, TILE_HEIGHTS } from './wasm-gemm.ts';

const PAGE_FLOATS = 65536 / 4;
/** 4 GiB / 64 KiB: the wasm32 ceiling. */
const MAX_PAGES = 65536;

type Tile = (a: number, b: number, c: number, k: number, n: number, lda: number, ldb: number, ldc: number, acc: number) => void;
type Kernel = (...args: number[]) => void;

export type GemmBackend = 'wasm-simd' | 'js';

let wasmModule: WebAssembly.Module | null | undefined;

function gemmModule(): WebAssembly.Module | null {
  if (wasmModule === undefined) {
    const bytes = moduleBytes([...gemmFunctions(), ...elementwiseFunctions()], MAX_PAGES);
    wasmModule = WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  }
  return wasmModule ?? null;
}

/** Rounds up to a multiple of 8: the WASM kernel computes 8 columns at a time. */
export const pad8 = (x: number): number => (x + 7) & ~7;

export class Arena {
  readonly memory: WebAssembly.Memory;
  readonly f32: Float32Array;
  readonly i32: Int32Array;
  readonly backend: GemmBackend;
  private readonly tiles: Tile[] = [];
  private readonly tilesT: Tile[] = [];
  private readonly wasm: Record<string, Kernel> = {};

  /** A new arena of `floats` floats (zeroed), or one attached to an existing arena's memory. */
  constructor(floats: number | WebAssembly.Memory, backend?: GemmBackend) {
    if (typeof floats === 'number') {
      const pages = Math.max(1, Math.ceil(floats / PAGE_FLOATS));
      if (pages > MAX_PAGES) throw new PctrError('PCTR_VALIDATION', `dense model state needs ${(floats / 2 ** 28).toFixed(1)} GiB, more than WebAssembly's 4 GiB`);
      // Sized once: shared memories reserve their maximum, and a model's needs are known up front.
      this.memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
    } else {
      this.memory = floats;
    }
    this.f32 = new Float32Array(this.memory.buffer);
    this.i32 = new Int32Array(this.memory.buffer);
    const module = backend === 'js' ? null : gemmModule();
    this.backend = module === null ? 'js' : 'wasm-simd';
    if (module !== null) {
      const exports = new WebAssembly.Instance(module, { env: { memory: this.memory } }).exports;
      for (const f of elementwiseFunctions()) this.wasm[f.name] = exports[f.name] as Kernel;
      for (const mr of TILE_HEIGHTS) {
        this.tiles.push(exports[`tile${mr}`] as Tile);
        this.tilesT.push(exports[`tileT${mr}`] as Tile);
      }
    }
  }

  /**
   * C[m×n] = A[m×k]·B[k×n] (+ C when acc), row-major with leading dimensions (floats) lda, ldb, ldc.
   * n must be a multiple of 8.
   */
  gemm(m: number, k: number, n: number, a: number, lda: number, b: number, ldb: number, c: number, ldc: number, acc: boolean): void {
    if (this.backend === 'js') return gemmJs(this.f32, m, k, n, a, lda, b, ldb, c, ldc, acc);
    let i = 0;
    const flag = acc ? 1 : 0;
    for (let t = 0; t < TILE_HEIGHTS.length; t++) {
      const mr = TILE_HEIGHTS[t];
      const tile = this.tiles[t];
      for (; i + mr <= m; i += mr) tile(4 * (a + i * lda), 4 * b, 4 * (c + i * ldc), k, n, lda, ldb, ldc, flag);
    }
  }

  /** C[m×n] = Aᵀ·B (+ C when acc), where A is stored k × m (leading dimension lda); n a multiple of 8. */
  gemmTN(m: number, k: number, n: number, a: number, lda: number, b: number, ldb: number, c: number, ldc: number, acc: boolean): void {
    if (this.backend === 'js') return gemmTnJs(this.f32, m, k, n, a, lda, b, ldb, c, ldc, acc);
    let i = 0;
    const flag = acc ? 1 : 0;
    for (let t = 0; t < TILE_HEIGHTS.length; t++) {
      const mr = TILE_HEIGHTS[t];
      const tile = this.tilesT[t];
      for (; i + mr <= m; i += mr) tile(4 * (a + i), 4 * b, 4 * (c + i * ldc), k, n, lda, ldb, ldc, flag);
    }
  }

  /**
   * Embedding lookup: row i of x0 (d floats apart) gets, for each field j, the first k floats of
   * table row tokens[tok + i·fields + j] (stride floats apart; the table lives in this arena).
   */
  gatherRows(m: number, fields: number, k: number, tok: number, table: number, stride: number, x0: number, d: number): void {
    if (this.backend === 'js') return gatherRowsJs(this.f32, this.i32, m, fields, k, tok, table, stride, x0, d);
    this.wasm.gatherRows(4 * tok, 4 * table, 4 * x0, m, fields, 4 * k, 4 * stride, 4 * d);
  }

  /** Over m rows of d floats (d a multiple of 4): u += bias; next = x0 ⊙ u + xl. */
  crossForward(m: number, d: number, u: number, bias: number, x0: number, xl: number, next: number): void {
    if (this.backend === 'js') return crossForwardJs(this.f32, m, d, u, bias, x0, xl, next);
    this.wasm.crossForward(4 * u, 4 * bias, 4 * x0, 4 * xl, 4 * next, m, d);
  }

  /** h = max(h + bias, 0) over m rows of d floats. */
  biasRelu(m: number, d: number, h: number, bias: number): void {
    if (this.backend === 'js') return biasReluJs(this.f32, m, d, h, bias);
    this.wasm.biasRelu(4 * h, 4 * bias, m, d);
  }

  /** dx0 += g ⊙ u; du = g ⊙ x0; dbias += column sums of du. */
  crossBackward(m: number, d: number, g: number, u: number, x0: number, dx0: number, du: number, dbias: number): void {
    if (this.backend === 'js') return crossBackwardJs(this.f32, m, d, g, u, x0, dx0, du, dbias);
    this.wasm.crossBackward(4 * g, 4 * u, 4 * x0, 4 * dx0, 4 * du, 4 * dbias, m, d);
  }

  /** g = g ⊙ [h > 0]; dbias += column sums of g. */
  reluBackward(m: number, d: number, g: number, h: number, dbias: number): void {
    if (this.backend === 'js') return reluBackwardJs(this.f32, m, d, g, h, dbias);
    this.wasm.reluBackward(4 * g, 4 * h, 4 * dbias, m, d);
  }

  /** dst[cols×rows] = srcᵀ, where src is rows × cols with leading dimension lds; dst's leading dimension is ldd. */
  transpose(rows: number, cols: number, src: number, lds: number, dst: number, ldd: number): void {
    const f = this.f32;
    // Blocks of 8 × 8 keep both sides' cache lines in use.
    for (let r0 = 0; r0 < rows; r0 += 8) {
      const r1 = Math.min(rows, r0 + 8);
      for (let c0 = 0; c0 < cols; c0 += 8) {
        const c1 = Math.min(cols, c0 + 8);
        for (let r = r0; r < r1; r++) {
          const s = src + r * lds;
          for (let c = c0; c < c1; c++) f[dst + c * ldd + r] = f[s + c];
        }
      }
    }
  }
}
