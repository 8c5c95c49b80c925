/**
 * Per-coordinate optimizers over Float32Array parameters, shared by FM, FFM and the deep learners.
 * An optimizer keeps `slots` state values per parameter; `step` applies one gradient to one
 * parameter, its state at state[s], state[s + stride], … (for an EmbeddingTable row, params and
 * state are the same array and stride is the row's dim). Regularization lives in the optimizer, so
 * learners pass the gradient of the loss alone. `SparseGradient` sums a mini-batch's gradients per
 * table row and applies them once per touched row, as PyTorch does with sparse embedding gradients.
 */
import { z } from 'zod';
import { PctrError } from '../core/index.ts';
import type { EmbeddingTable } from './embeddings.ts';

export interface Optimizer {
  readonly kind: string;
  /** State values per parameter, each starting at initialState[slot]. */
  readonly initialState: readonly number[];
  /** Applies the loss gradient g to params[p], whose state is at state[s + slot · stride]. */
  step(params: Float32Array, p: number, state: Float32Array, s: number, stride: number, g: number): void;
}

export const AdaGradParams = z.strictObject({
  lr: z.number().positive(),
  /** L2 strength, added to the gradient as l2 · w at every step of the parameter. */
  l2: z.number().min(0).default(0),
  /** Starting value of the squared-gradient sum (libffm uses 1, PyTorch 0). */
  initialAccumulator: z.number().min(0).default(0),
  eps: z.number().min(0).default(1e-10),
});
export type AdaGradParams = z.input<typeof AdaGradParams>;

/**
 * AdaGrad (Duchi et al. 2011), as torch.optim.Adagrad: g ← g + l2·w, G ← G + g², w ← w − lr·g/(√G + eps).
 * One state slot: G.
 */
export class AdaGrad implements Optimizer {
  readonly kind = 'adagrad';
  readonly lr: number;
  readonly l2: number;
  readonly eps: number;
  readonly initialState: readonly number[];

  constructor(params: AdaGradParams) {
    const p = AdaGradParams.parse(params);
    this.lr = p.lr;
    this.l2 = p.l2;
    this.eps = p.eps;
    this.initialState = [p.initialAccumulator];
  }

  step(params: Float32Array, p: number, state: Float32Array, s: number, _stride: number, g: number): void {
    const w = params[p];
    const grad = g + this.l2 * w;
    const acc = state[s] + grad * grad;
    state[s] = acc;
    params[p] = w - (this.lr * grad) / (Math.sqrt(acc) + this.eps);
  }
}

export const FtrlStepParams = z.strictObject({
  alpha: z.number().positive(),
  beta: z.number().min(0).default(1),
  l1: z.number().min(0).default(0),
  l2: z.number().min(0).default(0),
});
export type FtrlStepParams = z.input<typeof FtrlStepParams>;

/**
 * FTRL-Proximal (McMahan et al. 2013) per coordinate, with the weight kept materialized in params
 * so scoring reads it directly: σ = (√(n + g²) − √n)/α, z ← z + g − σ·w, n ← n + g²,
 * w = 0 if |z| ≤ l1, else −(z − sign(z)·l1) / ((β + √n)/α + l2). Two state slots: z, n.
 * Meant for weights that start at zero (linear terms): a nonzero initial weight is forgotten at its first step.
 */
export class FtrlStep implements Optimizer {
  readonly kind = 'ftrl';
  readonly alpha: number;
  readonly beta: number;
  readonly l1: number;
  readonly l2: number;
  readonly initialState: readonly number[] = [0, 0];

  constructor(params: FtrlStepParams) {
    const p = FtrlStepParams.parse(params);
    this.alpha = p.alpha;
    this.beta = p.beta;
    this.l1 = p.l1;
    this.l2 = p.l2;
  }

  step(params: Float32Array, p: number, state: Float32Array, s: number, stride: number, g: number): void {
    const z = state[s];
    const n = state[s + stride];
    const next = n + g * g;
    const root = Math.sqrt(next);
    const zNext = z + g - ((root - Math.sqrt(n)) / this.alpha) * params[p];
    state[s] = zNext;
    state[s + stride] = next;
    const a = Math.abs(zNext);
    params[p] = a <= this.l1 ? 0 : -(zNext - Math.sign(zNext) * this.l1) / ((this.beta + root) / this.alpha + this.l2);
  }
}

/**
 * One mini-batch's gradients for an EmbeddingTable, summed per row. `row(r)` gives the offset of
 * row r's gradient vector in `grad` (zeroed on first use in the batch); `apply` steps every
 * touched row once with the sum times `scale` (1/batch size for a mean loss) and starts a new batch.
 * Memory: one Int32 per table row, plus dim doubles per row touched in a batch.
 */
export class SparseGradient {
  readonly dim: number;
  grad: Float64Array;
  private readonly slotOf: Int32Array;
  private rowsTouched: Int32Array;
  private count = 0;

  constructor(table: EmbeddingTable) {
    this.dim = table.dim;
    this.slotOf = new Int32Array(table.rows).fill(-1);
    this.rowsTouched = new Int32Array(1024);
    this.grad = new Float64Array(1024 * this.dim);
  }

  /** Rows with a gradient in the current batch. */
  get size(): number {
    return this.count;
  }

  /** Offset of row r's gradient in `grad`. Re-read `grad` after calling: it may grow. */
  row(r: number): number {
    let slot = this.slotOf[r];
    if (slot < 0) {
      slot = this.count++;
      if (slot === this.rowsTouched.length) this.grow();
      this.slotOf[r] = slot;
      this.rowsTouched[slot] = r;
      // A loop, not fill(): most rows are short (dim 1 for linear terms) and the builtin's call costs more.
      const grad = this.grad;
      for (let g = slot * this.dim, end = g + this.dim; g < end; g++) grad[g] = 0;
    }
    return slot * this.dim;
  }

  apply(table: EmbeddingTable, optimizer: Optimizer, scale: number): void {
    if (table.dim !== this.dim) throw new PctrError('PCTR_INTERNAL', `gradient of dim ${this.dim} applied to a table of dim ${table.dim}`);
    const { data, dim } = table;
    const grad = this.grad;
    if (optimizer instanceof AdaGrad) {
      this.applyAdaGrad(table, optimizer, scale);
      return;
    }
    const stateStride = table.stateStride;
    for (let slot = 0; slot < this.count; slot++) {
      const r = this.rowsTouched[slot];
      const at = table.touch(r);
      const st = at + stateStride;
      for (let c = 0, g = slot * dim; c < dim; c++, g++) optimizer.step(data, at + c, data, st + c, stateStride, grad[g] * scale);
      this.slotOf[r] = -1;
    }
    this.count = 0;
  }

  /** apply for AdaGrad, its step inlined (the same arithmetic): one call per row instead of one per coordinate through the interface. */
  private applyAdaGrad(table: EmbeddingTable, optimizer: AdaGrad, scale: number): void {
    const { data, dim, stateStride } = table;
    const { lr, l2, eps } = optimizer;
    const grad = this.grad;
    const rowsTouched = this.rowsTouched;
    const slotOf = this.slotOf;
    for (let slot = 0; slot < this.count; slot++) {
      const r = rowsTouched[slot];
      const at = table.touch(r);
      const st = at + stateStride;
      for (let c = 0, g = slot * dim; c < dim; c++, g++) {
        const w = data[at + c];
        const step = grad[g] * scale + l2 * w;
        const acc = data[st + c] + step * step;
        data[st + c] = acc;
        data[at + c] = w - (lr * step) / (Math.sqrt(acc) + eps);
      }
      slotOf[r] = -1;
    }
    this.count = 0;
  }

  private grow(): void {
    const rows = new Int32Array(this.rowsTouched.length * 2);
    rows.set(this.rowsTouched);
    this.rowsTouched = rows;
    const grad = new Float64Array(rows.length * this.dim);
    grad.set(this.grad);
    this.grad = grad;
  }
}

export const AdamParams = z.strictObject({
  lr: z.number().positive(),
  beta1: z.number().min(0).max(1).default(0.9),
  beta2: z.number().min(0).max(1).default(0.999),
  eps: z.number().min(0).default(1e-8),
});
export type AdamParams = z.input<typeof AdamParams>;

/**
 * Adam (Kingma & Ba 2015), as torch.optim.Adam and, over embedding rows through SparseGradient,
 * torch.optim.SparseAdam (only rows with a gradient move, with the global step's bias correction):
 * m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g², w ← w − (lr/(1−β1^t))·m / (√v/√(1−β2^t) + eps).
 * Two state slots: m, v. Call `advance()` once per mini-batch, before its steps.
 */
export class Adam implements Optimizer {
  readonly kind = 'adam';
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly initialState: readonly number[] = [0, 0];
  /** Mini-batches so far. */
  t = 0;
  private stepSize = 0;
  private invRootCorrection2 = 0;

  constructor(params: AdamParams) {
    const p = AdamParams.parse(params);
    this.lr = p.lr;
    this.beta1 = p.beta1;
    this.beta2 = p.beta2;
    this.eps = p.eps;
  }

  advance(): void {
    this.t++;
    this.stepSize = this.lr / (1 - this.beta1 ** this.t);
    this.invRootCorrection2 = 1 / Math.sqrt(1 - this.beta2 ** this.t);
  }

  step(params: Float32Array, p: number, state: Float32Array, s: number, stride: number, g: number): void {
    const m = this.beta1 * state[s] + (1 - this.beta1) * g;
    const v = this.beta2 * state[s + stride] + (1 - this.beta2) * g * g;
    state[s] = m;
    state[s + stride] = v;
    params[p] -= (this.stepSize * m) / (Math.sqrt(v) * this.invRootCorrection2 + this.eps);
  }
}
