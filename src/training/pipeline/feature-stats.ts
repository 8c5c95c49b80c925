/**
 * Per-feature statistics of a training snapshot, small enough to keep as JSON in the run store:
 * null rate, and a distribution summary — deciles for numeric features, the most frequent values
 * (as category hashes) for categorical ones. The population stability index (PSI) compares the
 * current data with the summary of the last successful run: Σ (cur − ref)·ln(cur / ref) over the
 * reference's bins. Rules of thumb: < 0.1 stable, 0.1–0.25 moderate shift, > 0.25 major shift.
 */
import type { FeatureSchema, RawBatch } from '../../core/index.ts';

export interface FieldStats {
  readonly name: string;
  readonly kind: 'numeric' | 'categorical';
  readonly rows: number;
  readonly nullRate: number;
  /** Numeric: upper bin edges (deduplicated deciles of the non-null values). */
  readonly edges?: readonly number[];
  /** Share of non-null values per bin: numeric `edges.length + 1` bins; categorical one per `top` value plus "other". */
  readonly shares: readonly number[];
  /** Categorical: the most frequent value hashes. */
  readonly top?: readonly number[];
}

const NUMERIC_SAMPLE = 50_000;
const TOP_VALUES = 20;
const MAX_DISTINCT = 200_000;
const FLOOR = 1e-4;

/** Accumulates a snapshot's batches: exact null counts, a systematic sample of numeric values, categorical counts. */
export class StatsAccumulator {
  private rows = 0;
  private readonly nulls: Float64Array;
  private readonly samples: Float32Array[];
  private readonly sampled: Int32Array;
  private readonly counts: Map<number, number>[];
  /** Categorical values seen after the distinct-value cap, counted as "other". */
  private readonly overflow: Float64Array;

  constructor(
    readonly schema: FeatureSchema,
    /** Rows expected, to spread the numeric sample over the whole snapshot. */
    private readonly expectedRows: number,
  ) {
    const k = schema.fields.length;
    this.nulls = new Float64Array(k);
    this.sampled = new Int32Array(k);
    this.overflow = new Float64Array(k);
    this.samples = schema.fields.map((f) => new Float32Array(f.kind === 'numeric' ? NUMERIC_SAMPLE : 0));
    this.counts = schema.fields.map(() => new Map<number, number>());
  }

  add(batch: RawBatch): void {
    const stride = Math.max(1, Math.ceil(this.expectedRows / NUMERIC_SAMPLE));
    const first = this.rows;
    this.schema.fields.forEach((f, j) => {
      const col = batch.columns[j];
      if (f.kind === 'numeric') {
        const sample = this.samples[j];
        for (let i = 0; i < batch.n; i++) {
          const v = col[i];
          if (v !== v) this.nulls[j]++;
          else if ((first + i) % stride === 0 && this.sampled[j] < NUMERIC_SAMPLE) sample[this.sampled[j]++] = v;
        }
      } else {
        const counts = this.counts[j];
        for (let i = 0; i < batch.n; i++) {
          const v = col[i];
          if (v === 0) {
            this.nulls[j]++;
            continue;
          }
          const c = counts.get(v);
          if (c !== undefined) counts.set(v, c + 1);
          else if (counts.size < MAX_DISTINCT) counts.set(v, 1);
          else this.overflow[j]++;
        }
      }
    });
    this.rows += batch.n;
  }

  finish(): FieldStats[] {
    return this.schema.fields.map((f, j): FieldStats => {
      const nullRate = this.rows > 0 ? this.nulls[j] / this.rows : 0;
      if (f.kind === 'numeric') {
        const values = this.samples[j].slice(0, this.sampled[j]).sort();
        const edges = [...new Set(Array.from({ length: 9 }, (_, d) => values[Math.floor(((d + 1) * values.length) / 10) - 1]).filter((x) => x !== undefined))];
        return { name: f.name, kind: 'numeric', rows: this.rows, nullRate, edges, shares: numericShares(values, edges) };
      }
      const counts = this.counts[j];
      const total = this.rows - this.nulls[j];
      const top = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, TOP_VALUES);
      const shares = top.map(([, c]) => (total > 0 ? c / total : 0));
      const topShare = shares.reduce((a, b) => a + b, 0);
      return { name: f.name, kind: 'categorical', rows: this.rows, nullRate, top: top.map(([v]) => v), shares: [...shares, total > 0 ? Math.max(0, 1 - topShare) : 0] };
    });
  }

  /** Shares of this data in the bins of a reference summary (same field), for PSI. */
  sharesLike(reference: FieldStats): number[] | null {
    const j = this.schema.fields.findIndex((f) => f.name === reference.name && f.kind === reference.kind);
    if (j < 0) return null;
    if (reference.kind === 'numeric') return numericShares(this.samples[j].slice(0, this.sampled[j]).sort(), reference.edges ?? []);
    const counts = this.counts[j];
    const total = this.rows - this.nulls[j];
    if (total <= 0) return null;
    const shares = (reference.top ?? []).map((v) => (counts.get(v) ?? 0) / total);
    return [...shares, Math.max(0, 1 - shares.reduce((a, b) => a + b, 0))];
  }
}

/** Shares of sorted values in the bins (−∞, e0], (e0, e1], …, (e_last, ∞). */
function numericShares(sorted: Float32Array, edges: readonly number[]): number[] {
  const out = new Array<number>(edges.length + 1).fill(0);
  if (sorted.length === 0) return out;
  let b = 0;
  for (let i = 0; i < sorted.length; i++) {
    while (b < edges.length && sorted[i] > edges[b]) b++;
    out[b]++;
  }
  return out.map((c) => c / sorted.length);
}

/** Population stability index of `current` against `reference` shares (same bins); empty bins floored. */
export function psi(reference: readonly number[], current: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < reference.length; i++) {
    const r = Math.max(reference[i], FLOOR);
    const c = Math.max(current[i] ?? 0, FLOOR);
    sum += (c - r) * Math.log(c / r);
  }
  return sum;
}
