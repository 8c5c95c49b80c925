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
  /**
   * Where optimizer state lives: after each row (`row`, the default: `[w | state]` per row) or after
   * each group (`group`: the group's weights, then its state vectors, so a pass that only reads
   * weights, as scoring does, reads half the bytes: FFM's 38 vectors of a bucket are 608 bytes of
   * weights instead of 1216 interleaved with their AdaGrad sums).
   */
  readonly layout?: 'row' | 'group';
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
  /**
   * Floats per row: dim · (1 + slots). With the row layout, row r's weights start at r · stride and
   * its slot s at r · stride + (1 + s) · dim; with the group layout, see offset and stateOffset.
   */
  readonly stride: number;
  /** Distance between a row's consecutive state slots: dim (row layout) or group · dim (group layout). */
  readonly stateStride: number;
  readonly layout: 'row' | 'group';
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
    this.layout = opts.layout ?? 'row';
    this.stateStride = this.layout === 'group' ? this.group * dim : dim;
    this.init = opts.init;
    this.seed = opts.seed | 0;
  }

  /** Offset of row r's weights in `data`. */
  offset(row: number): number {
    if (this.layout === 'row') return row * this.stride;
    const inGroup = row % this.group;
    return (row - inGroup) * this.stride + inGroup * this.dim;
  }

  /** Offset of row r's first state slot in `data` (slot s at + s · stateStride). */
  stateOffset(row: number): number {
    return this.offset(row) + this.stateStride;
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
    return this.offset(row);
  }

  /** Initializes group g (rows g·group …) if training has not yet: what touch does, without a division on the hot path. */
  touchGroup(g: number): void {
    // Small enough to be inlined into the learners' token loops; the rare first touch is a call.
    if (this.touched[g] === 0) this.initGroup(g);
  }

  private initGroup(g: number): void {
    for (let r = g * this.group, end = r + this.group; r < end; r++) this.initRow(r, this.offset(r));
    this.touched[g] = 1;
  }

  /**
   * Only the touched rows, as tensors `${prefix}Index` (i32 row numbers) and `${prefix}` (their rows,
   * f32, each `[w | state]` whatever the layout in memory, so artifacts do not depend on it).
   */
  toTensors(prefix: string): Record<string, Int32Array | Float32Array> {
    const index = new Int32Array(this.touchedRows);
    const rows = new Float32Array(index.length * this.stride);
    for (let r = 0, k = 0; r < this.rows; r++) {
      if (this.touched[(r / this.group) | 0] === 0) continue;
      index[k] = r;
      this.copyRow(r, rows, k * this.stride, 'out');
      k++;
    }
    return { [`${prefix}Index`]: index, [prefix]: rows };
  }

  /** Copies row r between the table and `[w | state]` at flat[at …] (`out`: table → flat; `in`: flat → table). */
  private copyRow(r: number, flat: Float32Array, at: number, direction: 'in' | 'out'): void {
    const data = this.data;
    const dim = this.dim;
    if (this.layout === 'row') {
      if (direction === 'out') flat.set(data.subarray(r * this.stride, (r + 1) * this.stride), at);
      else data.set(flat.subarray(at, at + this.stride), r * this.stride);
      return;
    }
    for (let s = 0, from = this.offset(r); s <= this.slots; s++, from += this.stateStride) {
      const to = at + s * dim;
      if (direction === 'out') flat.set(data.subarray(from, from + dim), to);
      else data.set(flat.subarray(to, to + dim), from);
    }
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
      this.copyRow(r, rows, k * this.stride, 'in');
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
      for (let c = at + (1 + s) * this.stateStride, end = c + dim; c < end; c++) data[c] = v;
    }
  }
}
