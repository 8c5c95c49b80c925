/**
 * Where everything of a DCN-v2 lives in its arena (offsets in floats): the dense parameters in one
 * block (so the optimizer and the artifact see one array), one gradient block per thread, the
 * transposed weights the backward pass multiplies by, the mini-batch's token ids and labels, and
 * each thread's activations. Widths are padded to multiples of 8 for the SIMD kernel; padded units
 * start at zero and, having zero inputs and zero gradients, stay there.
 */
import { pad8 } from '../../kernels/index.ts';

export interface DcnShape {
  /** Embedded fields per row (schema fields and crosses; the bias token is the output bias instead). */
  readonly fields: number;
  readonly embeddingDim: number;
  readonly crossLayers: number;
  /** 0 = full-rank W (d × d); r > 0 = W = U·Vᵀ with U, V of d × r. */
  readonly crossRank: number;
  readonly hidden: readonly number[];
}

/** A weight matrix of `rows × cols` (real sizes `realRows × realCols`) and its transpose's place. */
export interface Matrix {
  readonly off: number;
  readonly rows: number;
  readonly cols: number;
  readonly realRows: number;
  readonly realCols: number;
  readonly tOff: number;
}

export interface CrossLayer {
  /** Full rank: W (d × d). Low rank: V (d × r) then U (r × d). */
  readonly w: Matrix | null;
  readonly v: Matrix | null;
  readonly u: Matrix | null;
  readonly bias: number;
}

export interface DenseLayer {
  readonly w: Matrix;
  readonly bias: number;
}

export interface ThreadScratch {
  /** x_0 … x_L, each rows × d. */
  readonly x: number[];
  /** W·x_l + b per cross layer, rows × d. */
  readonly u: number[];
  /** Vᵀ·x_l per low-rank cross layer, rows × r. */
  readonly v: number[];
  /** ReLU outputs per hidden layer, rows × width. */
  readonly h: number[];
  readonly g1: number;
  readonly g2: number;
  readonly du: number;
  readonly dv: number;
  readonly dx0: number;
  readonly dlogit: number;
  readonly grads: number;
}

export class DcnLayout {
  readonly shape: DcnShape;
  /** Embedding width F·k and its padded width. */
  readonly width: number;
  readonly d: number;
  readonly r: number;
  readonly cross: CrossLayer[] = [];
  readonly dense: DenseLayer[] = [];
  readonly outW: number;
  readonly outB: number;
  /** Width of the last layer before the output (d when there is no hidden layer). */
  readonly last: number;
  /** Dense parameters: [0, params). */
  readonly params: number;
  readonly matrices: Matrix[] = [];
  readonly threads: number;
  /** Rows one thread computes at a time (its share of a mini-batch; also the scoring chunk). */
  readonly sliceRows: number;
  readonly batchRows: number;
  /** Int32 offsets (same units) of the token ids, batchRows × fields. */
  readonly tokens: number;
  readonly labels: number;
  readonly probs: number;
  readonly scratch: ThreadScratch[] = [];
  readonly floats: number;

  constructor(shape: DcnShape, threads: number, batchSize: number, minSlice = 128) {
    this.shape = shape;
    this.threads = threads;
    this.width = shape.fields * shape.embeddingDim;
    this.d = pad8(this.width);
    this.r = pad8(shape.crossRank);
    let at = 0;
    const take = (n: number): number => {
      const off = at;
      at += pad8(n);
      return off;
    };
    const matrix = (realRows: number, realCols: number): Matrix => {
      const m = { off: take(pad8(realRows) * pad8(realCols)), rows: pad8(realRows), cols: pad8(realCols), realRows, realCols, tOff: 0 };
      this.matrices.push(m);
      return m;
    };
    for (let l = 0; l < shape.crossLayers; l++) {
      if (shape.crossRank === 0) this.cross.push({ w: matrix(this.width, this.width), v: null, u: null, bias: take(this.d) });
      else this.cross.push({ w: null, v: matrix(this.width, shape.crossRank), u: matrix(shape.crossRank, this.width), bias: take(this.d) });
    }
    let inWidth = this.width;
    for (const h of shape.hidden) {
      this.dense.push({ w: matrix(inWidth, h), bias: take(h) });
      inWidth = h;
    }
    this.last = pad8(inWidth);
    this.outW = take(this.last);
    this.outB = take(1);
    this.params = at;
    for (const m of this.matrices) (m as { tOff: number }).tOff = take(m.rows * m.cols);
    this.sliceRows = Math.max(minSlice, Math.ceil(batchSize / threads));
    this.batchRows = Math.max(batchSize, this.sliceRows);
    this.tokens = take(this.batchRows * shape.fields);
    this.labels = take(this.batchRows);
    this.probs = take(this.batchRows);
    const rows = this.sliceRows;
    const widest = Math.max(this.d, this.r, ...shape.hidden.map(pad8));
    for (let t = 0; t < threads; t++) {
      this.scratch.push({
        x: Array.from({ length: shape.crossLayers + 1 }, () => take(rows * this.d)),
        u: Array.from({ length: shape.crossLayers }, () => take(rows * this.d)),
        v: Array.from({ length: shape.crossRank === 0 ? 0 : shape.crossLayers }, () => take(rows * this.r)),
        h: shape.hidden.map((h) => take(rows * pad8(h))),
        g1: take(rows * widest),
        g2: take(rows * widest),
        du: take(rows * this.d),
        dv: take(rows * Math.max(this.r, 8)),
        dx0: take(rows * this.d),
        dlogit: take(rows),
        grads: take(this.params),
      });
    }
    this.floats = at;
  }

  /** Rows [start, end) of a mini-batch of n rows that thread t computes. */
  slice(t: number, n: number): [number, number] {
    const per = Math.ceil(n / this.threads);
    return [Math.min(n, t * per), Math.min(n, (t + 1) * per)];
  }
}
