/**
 * Embedding tables shared by the factorization and deep learners (FM, FFM, DCN): `rows` vectors of
 * `dim` floats in one Float32Array, each row followed by its optimizer's state vectors
 * (`[w | slot 0 | slot 1 …]`, `dim` floats each), so a token's weights and accumulators share cache
 * lines, as in libffm. Rows are initialized lazily, the first time training touches them, from
 * (seed, row) alone: the values do not depend on the order rows are met, a row training never
 * touched stays all zeros (a feature never seen in training contributes nothing), and only touched
 * rows need to be stored in an artifact. Rows can be initialized in groups (FFM's vectors of one
 * bucket), and the floats can live in storage the caller supplies (the WebAssembly memory FM/FFM's
 * kernels work on) or in a SharedArrayBuffer for worker threads.
 */
import { z } from 'zod';
import { fmix32, mixH, PctrError } from '../core/index.ts';

export const EMBEDDING_INITS = ['normal', 'uniform', 'zero'] as const;
export type EmbeddingInit = (typeof EMBEDDING_INITS)[number];

/** Initial weights: normal(0, scale²), uniform(−scale, scale), or zeros. */
export const InitSpec = z.strictObject({ kind: z.enum(EMBEDDING_INITS), scale: z.number().min(0) });
export type InitSpec = z.output<typeof InitSpec>;

export interface EmbeddingTableOptions {
  readonly init: InitSpec;
  readonly seed: number;
  /** Optimizer state vectors per row, and the value each starts at (e.g. AdaGrad's initial accumulator). */
  readonly initialState?: readonly number[];
  /** What the table is, for error messages ("ffm factors"). */
  readonly name?: string;
  /**
   * Rows initialized together (default 1): FFM's vectors of one bucket, so one flag per bucket is
   * checked per token. rows must be a multiple of it.
   */
  readonly group?: number;
  /** Zeroed floats to keep the table in instead (e.g. a view of a WebAssembly memory that kernels work on); rows × stride long. */
  readonly storage?: Float32Array;
}

/** Tables above this size are refused with a message, rather than failing inside V8 or swapping. */
const MAX_TABLE_BYTES = 2 ** 32;
const TWO_PI = 2 * Math.PI;

/** Uniform in (0, 1) for coordinate c of a row, from the row's hash: one finalizer round per coordinate. */
function unitAt(rowHash: number, c: number): number {
  return (fmix32(rowHash ^ Math.imul(c + 1, 0x9e3779b9)) + 0.5) / 4294967296;
}

export class EmbeddingTable {
  readonly rows: number;
  readonly dim: number;
  /** Optimizer state vectors per row. */
  readonly slots: number;
  /** Floats per row: dim · (1 + slots). Row r's weights start at r · stride, its slot s at r · stride + (1 + s) · dim. */
  readonly stride: number;
  readonly data: Float32Array;
  readonly init: InitSpec;
  readonly seed: number;
  private readonly initialState: readonly number[];
  /** Rows initialized together. */
  readonly group: number;
  /** Per group of rows: 1 once initialized by training (or loaded), 0 while still all zeros. */
  private readonly touched: Uint8Array;

  constructor(rows: number, dim: number, opts: EmbeddingTableOptions) {
    const name = opts.name ?? 'embedding table';
    if (!Number.isInteger(rows) || rows < 1 || !Number.isInteger(dim) || dim < 1) {
      throw new PctrError('PCTR_VALIDATION', `${name} needs whole numbers of rows and dimensions ≥ 1, got ${rows} × ${dim}`);
    }
    this.rows = rows;
    this.dim = dim;
    this.initialState = opts.initialState ?? [];
    this.slots = this.initialState.length;
    this.stride = dim * (1 + this.slots);
    const bytes = 4 * rows * this.stride;
    if (bytes > MAX_TABLE_BYTES) {
      throw new PctrError(
        'PCTR_VALIDATION',
        `${name} would take ${(bytes / 2 ** 30).toFixed(1)} GiB (${rows} rows × ${dim} dims × ${1 + this.slots} with optimizer state); lower the hash bits or the dimension`,
      );
    }
    if (opts.storage !== undefined && opts.storage.length !== rows * this.stride) {
      throw new PctrError('PCTR_INTERNAL', `${name} storage holds ${opts.storage.length} floats, not ${rows} rows × ${this.stride}`);
    }
    this.data = opts.storage ?? new Float32Array(rows * this.stride);
    this.group = opts.group ?? 1;
    if (!Number.isInteger(this.group) || this.group < 1 || rows % this.group !== 0) {
      throw new PctrError('PCTR_VALIDATION', `${name} rows (${rows}) are not a whole number of groups of ${this.group}`);
    }
    this.touched = new Uint8Array(rows / this.group);
    this.init = opts.init;
    this.seed = opts.seed | 0;
  }

  /** Offset of row r's weights in `data`. */
  offset(row: number): number {
    return row * this.stride;
  }

  isTouched(row: number): boolean {
    return this.touched[(row / this.group) | 0] === 1;
  }

  /** Rows initialized so far. */
  get touchedRows(): number {
    let n = 0;
    for (let g = 0; g < this.touched.length; g++) n += this.touched[g];
    return n * this.group;
  }

  /** Initializes row r's group (weights from the seed, state to its initial values) if training has not yet; returns r's offset. */
  touch(row: number): number {
    this.touchGroup(this.group === 1 ? row : Math.floor(row / this.group));
    return row * this.stride;
  }

  /** Initializes group g (rows g·group …) if training has not yet: what touch does, without a division on the hot path. */
  touchGroup(g: number): void {
    if (this.touched[g] !== 0) return;
    for (let r = g * this.group, end = r + this.group; r < end; r++) this.initRow(r, r * this.stride);
    this.touched[g] = 1;
  }

  /** Only the touched rows, as tensors `${prefix}Index` (i32 row numbers) and `${prefix}` (their rows, f32). */
  toTensors(prefix: string): Record<string, Int32Array | Float32Array> {
    const index = new Int32Array(this.touchedRows);
    const rows = new Float32Array(index.length * this.stride);
    for (let r = 0, k = 0; r < this.rows; r++) {
      if (this.touched[(r / this.group) | 0] === 0) continue;
      index[k] = r;
      rows.set(this.data.subarray(r * this.stride, (r + 1) * this.stride), k * this.stride);
      k++;
    }
    return { [`${prefix}Index`]: index, [prefix]: rows };
  }

  /** Restores rows saved by toTensors; PCTR_ARTIFACT_CORRUPT when they do not fit this table. */
  loadTensors(prefix: string, tensors: Readonly<Record<string, unknown>>): void {
    const index = tensors[`${prefix}Index`];
    const rows = tensors[prefix];
    if (!(index instanceof Int32Array) || !(rows instanceof Float32Array) || rows.length !== index.length * this.stride) {
      throw new PctrError('PCTR_ARTIFACT_CORRUPT', `artifact needs tensors ${prefix}Index (i32) and ${prefix} (f32, ${this.stride} per row)`);
    }
    for (let k = 0; k < index.length; k++) {
      const r = index[k];
      if (!(r >= 0 && r < this.rows)) throw new PctrError('PCTR_ARTIFACT_CORRUPT', `artifact row ${r} of ${prefix} is outside its ${this.rows} rows`);
      this.data.set(rows.subarray(k * this.stride, (k + 1) * this.stride), r * this.stride);
      this.touched[(r / this.group) | 0] = 1;
    }
  }

  private initRow(row: number, at: number): void {
    const { kind, scale } = this.init;
    const data = this.data;
    const dim = this.dim;
    const h = fmix32(mixH(this.seed, row));
    if (kind === 'uniform') {
      for (let c = 0; c < dim; c++) data[at + c] = scale * (2 * unitAt(h, c) - 1);
    } else if (kind === 'normal') {
      // Box–Muller: each pair of uniforms gives two independent normals (cos and sin).
      for (let c = 0; c < dim; c += 2) {
        const r = scale * Math.sqrt(-2 * Math.log(unitAt(h, c)));
        const angle = TWO_PI * unitAt(h, c + 1);
        data[at + c] = r * Math.cos(angle);
        if (c + 1 < dim) data[at + c + 1] = r * Math.sin(angle);
      }
    }
    // A loop, not fill(): rows are short (FFM's are 4 floats) and a new bucket initializes dozens of them.
    for (let s = 0; s < this.slots; s++) {
      const v = this.initialState[s];
      for (let c = at + (1 + s) * dim, end = c + dim; c < end; c++) data[c] = v;
    }
  }
}
