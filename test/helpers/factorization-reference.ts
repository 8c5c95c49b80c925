/**
 * FM and FFM written as plainly as possible, in doubles, for the learners' tests: the pairwise sum
 * over token pairs (no sum-of-squares identity, no kernels), gradients taken from it directly, and
 * torch.optim.Adagrad's step on the mean-loss gradient of each mini-batch summed per factor row, with
 * L2 added once per step of a row. Initial factor values come from an EmbeddingTable with the
 * model's seed, so reference and learner start from the same weights.
 */
import { EmbeddingTable } from '../../src/models/embeddings.ts';
import type { EncodedBatch } from '../../src/models/index.ts';
import type { FactorizationParams } from '../../src/models/learners/factorization.ts';

export class ReferenceFactorization {
  private readonly w = new Map<number, number>();
  private readonly gw = new Map<number, number>();
  private readonly v = new Map<number, Float64Array>();
  private readonly gv = new Map<number, Float64Array>();
  private readonly init: EmbeddingTable;

  constructor(
    private readonly kind: 'fm' | 'ffm',
    private readonly p: FactorizationParams,
    /** Factor rows per bucket (FFM: fields − 1) and the bias token's field. */
    private readonly per: number,
    private readonly biasField: number,
  ) {
    this.init = new EmbeddingTable(per << p.bits, p.dim, { init: { kind: p.init, scale: p.initScale }, seed: p.seed, group: per });
  }

  private factor(row: number): Float64Array {
    let v = this.v.get(row);
    if (!v) {
      const at = this.init.touch(row);
      v = Float64Array.from(this.init.data.subarray(at, at + this.p.dim));
      this.v.set(row, v);
      this.gv.set(row, new Float64Array(this.p.dim).fill(this.p.initialAccumulator));
    }
    return v;
  }

  /** Factor rows of tokens i and j in their interaction. */
  private rows(bucket: number[], field: number[], i: number, j: number): [number, number] {
    return this.kind === 'fm' ? [bucket[i], bucket[j]] : [bucket[i] * this.per + field[j], bucket[j] * this.per + field[i]];
  }

  private tokens(enc: EncodedBatch, r: number): { all: number[]; x: number[]; bucket: number[]; field: number[] } {
    const out = { all: [] as number[], x: [] as number[], bucket: [] as number[], field: [] as number[] };
    for (let k = enc.offsets[r]; k < enc.offsets[r + 1]; k++) {
      out.all.push(enc.indices[k]);
      if (enc.fields[k] === this.biasField) continue;
      out.bucket.push(enc.indices[k]);
      out.field.push(enc.fields[k]);
      out.x.push(enc.values[k]);
    }
    return out;
  }

  logit(enc: EncodedBatch, r: number): number {
    const t = this.tokens(enc, r);
    let z = t.all.reduce((s, i) => s + (this.w.get(i) ?? 0), 0);
    for (let i = 0; i < t.bucket.length; i++) {
      for (let j = i + 1; j < t.bucket.length; j++) {
        const [a, b] = this.rows(t.bucket, t.field, i, j);
        const va = this.v.get(a);
        const vb = this.v.get(b);
        if (!va || !vb) continue;
        z += va.reduce((s, x, c) => s + x * vb[c], 0) * t.x[i] * t.x[j];
      }
    }
    return z;
  }

  /** Learns all rows of enc in order, in mini-batches of batchSize. */
  learn(enc: EncodedBatch): void {
    for (let from = 0; from < enc.n; from += this.p.batchSize) {
      const to = Math.min(enc.n, from + this.p.batchSize);
      const gw = new Map<number, number>();
      const gv = new Map<number, Float64Array>();
      for (let r = from; r < to; r++) {
        const t = this.tokens(enc, r);
        for (let i = 0; i < t.bucket.length; i++) for (let j = 0; j < t.bucket.length; j++) if (i !== j) this.rows(t.bucket, t.field, i, j).forEach((row) => this.factor(row));
        const kappa = 1 / (1 + Math.exp(-this.logit(enc, r))) - enc.labels![r];
        for (const i of t.all) gw.set(i, (gw.get(i) ?? 0) + kappa);
        for (let i = 0; i < t.bucket.length; i++) {
          for (let j = i + 1; j < t.bucket.length; j++) {
            const [a, b] = this.rows(t.bucket, t.field, i, j);
            const k = kappa * t.x[i] * t.x[j];
            const sa = gv.get(a) ?? new Float64Array(this.p.dim);
            const sb = gv.get(b) ?? new Float64Array(this.p.dim);
            const [va, vb] = [this.v.get(a)!, this.v.get(b)!];
            for (let c = 0; c < this.p.dim; c++) {
              sa[c] += k * vb[c];
              sb[c] += k * va[c];
            }
            gv.set(a, sa);
            gv.set(b, sb);
          }
        }
      }
      const n = to - from;
      for (const [i, g] of gw) {
        const w = this.w.get(i) ?? 0;
        const grad = g / n + this.p.l2Linear * w;
        const acc = (this.gw.get(i) ?? this.p.initialAccumulator) + grad * grad;
        this.gw.set(i, acc);
        this.w.set(i, w - (this.p.lr * grad) / (Math.sqrt(acc) + 1e-10));
      }
      for (const [row, g] of gv) {
        const v = this.v.get(row)!;
        const acc = this.gv.get(row)!;
        for (let c = 0; c < this.p.dim; c++) {
          const grad = g[c] / n + this.p.l2 * v[c];
          acc[c] += grad * grad;
          v[c] -= (this.p.lr * grad) / (Math.sqrt(acc[c]) + 1e-10);
        }
      }
    }
  }
}
