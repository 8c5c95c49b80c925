/**
 * The DCN-v2 forward and backward passes over one slice of rows, by hand over the arena
 * (Wang et al. 2021, the stacked structure):
 *   x0 = [e_1 … e_F] (field embeddings),  x_{l+1} = x0 ⊙ (W_l x_l + b_l) + x_l   (l < L),
 *   h_0 = x_L,  h_{j+1} = ReLU(W_j h_j + b_j),  logit = w·h_J + b,  p = σ(logit).
 * Backward, for the mean logloss over a mini-batch (dlogit = (p − y)/n):
 *   dz_j = dh_{j+1} ⊙ [h_{j+1} > 0], dW_j += h_jᵀ dz_j, dh_j = dz_j W_jᵀ;
 *   with g = ∂L/∂x_{l+1}: ∂x0 += g ⊙ u_l, du = g ⊙ x0, dW_l += x_lᵀ du, ∂x_l = g + du W_lᵀ
 *   (low rank: dU += vᵀ du, dv = du Uᵀ, dV += x_lᵀ dv, ∂x_l = g + dv Vᵀ).
 * The main thread and the workers run the same code on their own scratch and gradient block.
 */
import type { Arena } from '../../kernels/index.ts';
import type { DcnLayout, Matrix } from './layout.ts';

const MAX_LOGIT = 35;

export class DcnNetwork {
  private readonly f: Float32Array;

  constructor(
    readonly arena: Arena,
    readonly layout: DcnLayout,
    /** Offset of the embedding table in the arena: rows of `stride` floats, weights first. */
    private readonly table: number,
    private readonly stride: number,
  ) {
    this.f = arena.f32;
  }

  /** Probabilities of batch rows [start, end) into layout.probs, keeping thread t's activations for backward. */
  forward(t: number, start: number, end: number): void {
    const L = this.layout;
    const s = L.scratch[t];
    const f = this.f;
    const a = this.arena;
    const m = end - start;
    const { d, r } = L;
    const F = L.shape.fields;
    const x0 = s.x[0];
    // x0's padding columns are never written, so they stay zero.
    a.gatherRows(m, F, L.shape.embeddingDim, L.tokens + start * F, this.table, this.stride, x0, d);
    for (let l = 0; l < L.cross.length; l++) {
      const layer = L.cross[l];
      const xl = s.x[l];
      const u = s.u[l];
      if (layer.w !== null) {
        a.gemm(m, d, d, xl, d, layer.w.off, d, u, d, false);
      } else {
        a.gemm(m, d, r, xl, d, layer.v!.off, r, s.v[l], r, false);
        a.gemm(m, r, d, s.v[l], r, layer.u!.off, d, u, d, false);
      }
      a.crossForward(m, d, u, layer.bias, x0, xl, s.x[l + 1]);
    }
    let input = s.x[L.cross.length];
    let inWidth = d;
    for (let j = 0; j < L.dense.length; j++) {
      const { w, bias } = L.dense[j];
      const h = s.h[j];
      a.gemm(m, inWidth, w.cols, input, inWidth, w.off, w.cols, h, w.cols, false);
      a.biasRelu(m, w.cols, h, bias);
      input = h;
      inWidth = w.cols;
    }
    const outB = f[L.outB];
    for (let i = 0; i < m; i++) {
      let z = outB;
      const o = input + i * inWidth;
      for (let c = 0; c < inWidth; c++) z += f[o + c] * f[L.outW + c];
      z = z > MAX_LOGIT ? MAX_LOGIT : z < -MAX_LOGIT ? -MAX_LOGIT : z;
      f[L.probs + start + i] = 1 / (1 + Math.exp(-z));
    }
  }

  /**
   * Gradients of the mean logloss over a mini-batch of `batchRows` rows, for rows [start, end)
   * after forward(t, start, end): dense ones into thread t's gradient block (overwritten),
   * embedding ones (∂x0, rows × d) into its dx0.
   */
  backward(t: number, start: number, end: number, batchRows: number): void {
    const L = this.layout;
    const s = L.scratch[t];
    const f = this.f;
    const m = end - start;
    const G = s.grads;
    f.fill(0, G, G + L.params);
    const scale = 1 / batchRows;
    const nCross = L.cross.length;
    let hLast = s.x[nCross];
    let lastWidth = L.d;
    if (L.dense.length > 0) {
      hLast = s.h[L.dense.length - 1];
      lastWidth = L.dense[L.dense.length - 1].w.cols;
    }
    // Output layer.
    let g = s.g1;
    let spare = s.g2;
    for (let i = 0; i < m; i++) {
      const dz = (f[L.probs + start + i] - f[L.labels + start + i]) * scale;
      f[s.dlogit + i] = dz;
      f[G + L.outB] += dz;
      const o = hLast + i * lastWidth;
      const go = g + i * lastWidth;
      for (let c = 0; c < lastWidth; c++) {
        f[G + L.outW + c] += f[o + c] * dz;
        f[go + c] = f[L.outW + c] * dz;
      }
    }
    // Hidden layers, last to first: g holds ∂h_{j+1} and becomes ∂h_j.
    for (let j = L.dense.length - 1; j >= 0; j--) {
      const { w, bias } = L.dense[j];
      const cols = w.cols;
      this.arena.reluBackward(m, cols, g, s.h[j], G + bias);
      const input = j === 0 ? s.x[nCross] : s.h[j - 1];
      this.weightGrad(m, input, g, w, G);
      this.arena.gemm(m, cols, w.rows, g, cols, w.tOff, w.rows, spare, w.rows, false);
      [g, spare] = [spare, g];
    }
    // Cross layers, last to first: g holds ∂x_{l+1} and becomes ∂x_l.
    const d = L.d;
    const x0 = s.x[0];
    const dx0 = s.dx0;
    f.fill(0, dx0, dx0 + m * d);
    for (let l = nCross - 1; l >= 0; l--) {
      const layer = L.cross[l];
      const du = s.du;
      this.arena.crossBackward(m, d, g, s.u[l], x0, dx0, du, G + layer.bias);
      if (layer.w !== null) {
        this.weightGrad(m, s.x[l], du, layer.w, G);
        this.arena.gemm(m, d, d, du, d, layer.w.tOff, d, g, d, true);
      } else {
        const r = L.r;
        const v = layer.v!;
        const uMat = layer.u!;
        this.weightGrad(m, s.v[l], du, uMat, G);
        this.arena.gemm(m, d, r, du, d, uMat.tOff, r, s.dv, r, false);
        this.weightGrad(m, s.x[l], s.dv, v, G);
        this.arena.gemm(m, r, d, s.dv, r, v.tOff, d, g, d, true);
      }
    }
    for (let i = 0, n = m * d; i < n; i++) f[dx0 + i] += f[g + i];
  }

  /** G[w] += inputᵀ · delta over m rows (input is m × w.rows, delta m × w.cols). */
  private weightGrad(m: number, input: number, delta: number, w: Matrix, G: number): void {
    this.arena.gemmTN(w.rows, m, w.cols, input, w.rows, delta, w.cols, G + w.off, w.cols, true);
  }

  /** Refreshes the transposed copies of the weights after they changed. */
  transposeWeights(): void {
    for (const w of this.layout.matrices) this.arena.transpose(w.rows, w.cols, w.off, w.cols, w.tOff, w.rows);
  }
}
