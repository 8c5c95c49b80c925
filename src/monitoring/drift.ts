/**
 * Drift: the population stability index (PSI) of every served feature, comparing served traffic
 * over a recent event-time window with a reference, and of served pCTR.
 *
 * The feature reference is the champion's training data, as the pipeline summarized it
 * (training/`FieldStats`: deciles of numeric features, the 20 most frequent values of categorical
 * ones plus "other"), so the monitor and the pipeline's own drift check use the same bins and the
 * same PSI. Served values are put in those bins as they arrive (a categorical value by its hash, a
 * numeric one rounded to float32 as the training snapshot stored it, so a value on a bin edge lands
 * where it landed in training) and counted per event-time bucket; a report sums the latest
 * buckets covering the window, reaching further back while the window holds fewer than `minRows`
 * impressions, since PSI over few rows is noise (about bins ÷ rows).
 *
 * The pCTR reference is the first `baselineRows` predictions of the current champion: PSI of
 * pCTR says the model's output moved while the model did not.
 */
import { PctrError, hashCategory, type FeatureSchema, type FeatureValue } from '../core/index.ts';
import { StatsAccumulator, psi, type FieldStats } from '../training/index.ts';
import { TimeBuckets } from './time-buckets.ts';

export type DriftStatus = 'ok' | 'warn' | 'alert' | 'insufficient';

export interface DriftReference {
  readonly source: 'training-run' | 'served-baseline';
  /** Registry version whose training data it summarizes (null for a served baseline). */
  readonly version: number | null;
  readonly runId: string | null;
  readonly stats: readonly FieldStats[];
}

export interface FeatureDrift {
  readonly feature: string;
  readonly kind: 'categorical' | 'numeric';
  readonly psi: number | null;
  readonly threshold: number;
  readonly status: DriftStatus;
}

export interface DriftReport {
  readonly reference: { readonly source: DriftReference['source'] | 'none'; readonly version: number | null; readonly runId: string | null; readonly rows: number };
  /** Event-time span and impressions of the window compared. */
  readonly windowMs: number;
  readonly rows: number;
  readonly features: readonly FeatureDrift[];
  readonly pctr: { readonly psi: number | null; readonly threshold: number; readonly version: string | null };
}

export interface DriftOptions {
  readonly windowMs: number;
  readonly minRows: number;
  readonly threshold: number;
  readonly thresholds?: ReadonlyMap<string, number>;
  /** Features not checked (the hour of day moves by design). */
  readonly ignore?: ReadonlySet<string>;
  readonly pctrThreshold: number;
  /** Predictions of a new champion that make its pCTR reference. */
  readonly baselineRows: number;
}

/** Buckets per window: the window slides in quarter steps. */
const STEPS_PER_WINDOW = 4;
/** How far back a window may reach for rows: this many windows. */
const MAX_WINDOWS = 16;

class Binned {
  readonly offset: number;
  readonly bins: number;
  private readonly top: Map<number, number> | null;
  private readonly edges: Float64Array | null;

  constructor(
    readonly ref: FieldStats,
    readonly threshold: number,
    offset: number,
  ) {
    this.offset = offset;
    this.bins = ref.shares.length;
    this.top = ref.kind === 'categorical' ? new Map((ref.top ?? []).map((h, i) => [h, i])) : null;
    this.edges = ref.kind === 'numeric' ? Float64Array.from(ref.edges ?? []) : null;
  }

  /** Bin of a served value, or -1 for a missing one. */
  bin(v: FeatureValue | undefined): number {
    if (v === undefined) return -1;
    if (this.top !== null) {
      if (v === '') return -1;
      return this.top.get(hashCategory(typeof v === 'string' ? v : String(v))) ?? this.bins - 1;
    }
    const x = Math.fround(typeof v === 'number' ? v : Number(v));
    if (x !== x) return -1;
    // Bins (−∞, e0], (e0, e1], …: the bin is the number of edges below x.
    const e = this.edges!;
    let lo = 0;
    let hi = e.length;
    while (lo < hi) {
      const m = (lo + hi) >>> 1;
      if (e[m] < x) lo = m + 1;
      else hi = m;
    }
    return lo;
  }
}

const PCTR_SCHEMA: FeatureSchema = { fields: [{ name: 'pCTR', kind: 'numeric' }] };

export class Drift {
  private readonly opts: DriftOptions;
  private reference: DriftReference | null = null;
  private features: Binned[] = [];
  /** Slot 0: impressions; then each feature's bins, then its non-missing count. */
  private buckets: TimeBuckets;
  private readonly widthMs: number;
  private pctr: { version: string; bins: Binned | null; baseline: Float32Array; filled: number; buckets: TimeBuckets } | null = null;

  constructor(opts: DriftOptions) {
    this.opts = opts;
    this.widthMs = Math.max(1, Math.round(opts.windowMs / STEPS_PER_WINDOW));
    this.buckets = this.newBuckets(1);
  }

  /** Event time the window slides by. */
  get stepMs(): number {
    return this.widthMs;
  }

  get currentReference(): DriftReference | null {
    return this.reference;
  }

  /** Compare with a new reference from now on (counts binned for the old one are dropped). */
  setReference(ref: DriftReference): void {
    const ignore = this.opts.ignore ?? new Set<string>();
    let slot = 1;
    this.features = [];
    for (const stats of ref.stats) {
      if (ignore.has(stats.name) || stats.rows === 0 || stats.nullRate >= 1 || stats.shares.length === 0) continue;
      const b = new Binned(stats, this.opts.thresholds?.get(stats.name) ?? this.opts.threshold, slot);
      this.features.push(b);
      slot += b.bins + 1;
    }
    this.reference = ref;
    this.buckets = this.newBuckets(slot);
  }

  /** The champion whose first predictions make the pCTR reference; a different one restarts it. */
  setChampion(version: string): void {
    if (this.pctr?.version === version) return;
    this.pctr = { version, bins: null, baseline: new Float32Array(this.opts.baselineRows), filled: 0, buckets: this.newBuckets(1) };
  }

  /** The served features of an impression at event time ts (a sample of impressions is enough). */
  addFeatures(ts: number, features: Readonly<Record<string, FeatureValue>>): void {
    const base = this.buckets.offset(ts);
    if (base < 0) return;
    const d = this.buckets.data;
    d[base]++;
    for (const f of this.features) {
      const b = f.bin(features[f.ref.name]);
      if (b < 0) continue;
      d[base + f.offset + b]++;
      d[base + f.offset + f.bins]++;
    }
  }

  /** The pCTR of every served impression, with the version that served it. */
  addPrediction(ts: number, pCTR: number, version: string): void {
    const p = this.pctr;
    if (p === null || p.version !== version) return;
    if (p.bins === null) {
      p.baseline[p.filled++] = pCTR;
      if (p.filled === p.baseline.length) {
        const acc = new StatsAccumulator(PCTR_SCHEMA, p.filled);
        acc.add({ n: p.filled, schema: PCTR_SCHEMA, columns: [p.baseline] });
        const [stats] = acc.finish();
        p.bins = new Binned(stats, this.opts.pctrThreshold, 1);
        p.buckets = this.newBuckets(2 + p.bins.bins);
      }
      return;
    }
    const base = p.buckets.offset(ts);
    if (base < 0) return;
    p.buckets.data[base]++;
    p.buckets.data[base + 1 + p.bins.bin(pCTR)]++;
  }

  report(): DriftReport {
    const ref = this.reference;
    const { rows, span, sums } = this.window(this.buckets);
    const enough = rows >= this.opts.minRows;
    const features = this.features.map((f): FeatureDrift => {
      const present = sums[f.offset + f.bins];
      if (!enough || present === 0) return { feature: f.ref.name, kind: f.ref.kind, psi: null, threshold: f.threshold, status: 'insufficient' };
      const shares = Array.from({ length: f.bins }, (_, i) => sums[f.offset + i] / present);
      const value = psi(f.ref.shares, shares);
      return { feature: f.ref.name, kind: f.ref.kind, psi: value, threshold: f.threshold, status: statusOf(value, f.threshold) };
    });
    return {
      reference: ref === null ? { source: 'none', version: null, runId: null, rows: 0 } : { source: ref.source, version: ref.version, runId: ref.runId, rows: ref.stats[0]?.rows ?? 0 },
      windowMs: span,
      rows,
      features,
      pctr: { psi: this.pctrPsi(), threshold: this.opts.pctrThreshold, version: this.pctr?.version ?? null },
    };
  }

  private pctrPsi(): number | null {
    const p = this.pctr;
    if (p === null || p.bins === null) return null;
    const { rows, sums } = this.window(p.buckets);
    if (rows < this.opts.minRows) return null;
    return psi(p.bins.ref.shares, Array.from({ length: p.bins.bins }, (_, i) => sums[1 + i] / rows));
  }

  /** Sums of the latest buckets covering the window, going back further while rows < minRows. */
  private window(buckets: TimeBuckets): { rows: number; span: number; sums: Float64Array } {
    const sums = new Float64Array(buckets.slots);
    const newest = buckets.newestStart;
    if (newest === null) return { rows: 0, span: 0, sums };
    const w = buckets.widthMs;
    let k = 0;
    const one = new Float64Array(buckets.slots);
    while (k < buckets.count) {
      const start = newest - k * w;
      buckets.sum(start, start + w, one);
      for (let s = 0; s < sums.length; s++) sums[s] += one[s];
      k++;
      if (k * w >= this.opts.windowMs && sums[0] >= this.opts.minRows) break;
    }
    return { rows: sums[0], span: k * w, sums };
  }

  private newBuckets(slots: number): TimeBuckets {
    return new TimeBuckets(this.widthMs, STEPS_PER_WINDOW * MAX_WINDOWS, slots);
  }
}

function statusOf(value: number, threshold: number): DriftStatus {
  if (value > threshold) return 'alert';
  if (value > threshold / 2) return 'warn';
  return 'ok';
}

/** Per-feature thresholds from `name=psi,name=psi` (config monitoring.driftThresholds). */
export function parseThresholds(spec: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const part of spec.split(',').map((p) => p.trim()).filter(Boolean)) {
    const [name, value, extra] = part.split('=').map((x) => x.trim());
    const v = Number(value);
    if (!name || extra !== undefined || !(Number.isFinite(v) && v > 0)) {
      throw new PctrError('PCTR_CONFIG_INVALID', `monitoring.driftThresholds (PCTR_DRIFT_THRESHOLDS): "${part}" is not name=psi with psi > 0`);
    }
    out.set(name, v);
  }
  return out;
}
