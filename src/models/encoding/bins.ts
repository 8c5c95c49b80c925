/**
 * Numeric (count) fields become categorical tokens by binning: log2 bins need nothing fitted and
 * suit heavy-tailed counts; quantile bins are fitted on training data so each bin holds a similar
 * share of rows. Missing values get a bin of their own.
 */
import type { RawBatch } from '../../core/index.ts';

/** The bin of a missing value (NaN); no real value maps to it. */
export const MISSING_BIN = -0x7fffffff;

/**
 * Small values (below 2, negatives clamped at −16) keep their integer; larger ones get half-octave
 * bins. With `rateBins` > 0, values strictly between 0 and 1 (rates such as a smoothed CTR) get
 * `rateBins` bins per octave below 1, with codes under −16 that no count can have.
 */
export function log2Bin(v: number, rateBins = 0): number {
  if (v !== v) return MISSING_BIN;
  if (rateBins > 0 && v > 0 && v < 1) return -17 - Math.floor(-rateBins * Math.log2(v));
  if (v < 2) return v < -16 ? -16 : Math.floor(v);
  return 1 + Math.floor(2 * Math.log2(v));
}

/** Number of boundaries ≤ v (binary search), so bin i holds [boundaries[i−1], boundaries[i]). */
export function quantileBin(v: number, boundaries: Float64Array): number {
  if (v !== v) return MISSING_BIN;
  let lo = 0;
  let hi = boundaries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (boundaries[mid] <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Distinct boundaries at the 1/bins … (bins−1)/bins quantiles of the (non-missing) values. */
export function quantileBoundaries(values: Float64Array, bins: number): number[] {
  const sorted = Float64Array.from(values).sort();
  const out: number[] = [];
  for (let i = 1; i < bins; i++) {
    const v = sorted[Math.floor((i * sorted.length) / bins)];
    if (v !== undefined && (out.length === 0 || v > out[out.length - 1])) out.push(v);
  }
  return out;
}

/** Collects up to `maxRows` non-missing values per numeric field of a schema, for quantile fitting. */
export class NumericSample {
  private readonly values: Float64Array[];
  private readonly counts: Int32Array;

  constructor(
    private readonly fields: readonly string[],
    private readonly maxRows = 100_000,
  ) {
    this.values = fields.map(() => new Float64Array(maxRows));
    this.counts = new Int32Array(fields.length);
  }

  get full(): boolean {
    return this.counts.every((c) => c >= this.maxRows);
  }

  add(batch: RawBatch): void {
    this.fields.forEach((name, f) => {
      const i = batch.schema.fields.findIndex((d) => d.name === name);
      if (i < 0) return;
      const col = batch.columns[i];
      const out = this.values[f];
      let c = this.counts[f];
      for (let r = 0; r < batch.n && c < this.maxRows; r++) if (col[r] === col[r]) out[c++] = col[r];
      this.counts[f] = c;
    });
  }

  boundaries(bins: number): Record<string, number[]> {
    const out: Record<string, number[]> = {};
    this.fields.forEach((name, f) => (out[name] = quantileBoundaries(this.values[f].subarray(0, this.counts[f]), bins)));
    return out;
  }
}
