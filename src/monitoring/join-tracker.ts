/**
 * The join as seen from its output topics, so it works the same whether the join runs in this
 * process or elsewhere: labels per event-time bucket (positives and negatives by impression time),
 * late and unknown clicks (by click time, from `unattributed-clicks`), and the watermark lag.
 *
 * The join emits a negative when its watermark passes the impression's window end, so the newest
 * negative tells where the watermark is: watermark ≥ ts + attribution window of that negative.
 * Lag = newest served impression − that estimate; it grows when the join stalls (no negatives come
 * while impressions do). A join running in this process reports its own watermark lag instead.
 */
import { TimeBuckets } from './time-buckets.ts';

const POSITIVES = 0;
const NEGATIVES = 1;
const LATE = 2;
const UNKNOWN = 3;
const LAG_SUM = 4;
const LAG_N = 5;
const SLOTS = 6;

export interface JoinTotals {
  readonly positives: number;
  readonly negatives: number;
  readonly late: number;
  readonly unknown: number;
}

export interface JoinSeries {
  readonly ts: number[];
  readonly lag_s: (number | null)[];
  readonly late: number[];
  readonly unknown: number[];
  readonly positives: number[];
  readonly negatives: number[];
}

export class JoinTracker {
  readonly buckets: TimeBuckets;
  private readonly windowMs: number;
  /** Largest impression time + attribution window among negatives: where the watermark at least is. */
  private watermark = -Infinity;
  private readonly totals = { positives: 0, negatives: 0, late: 0, unknown: 0 };

  constructor(opts: { bucketMs: number; historyMs: number; attributionWindowMs: number }) {
    this.buckets = new TimeBuckets(opts.bucketMs, Math.max(2, Math.ceil(opts.historyMs / opts.bucketMs) + 1), SLOTS);
    this.windowMs = opts.attributionWindowMs;
  }

  addExample(impressionTs: number, label: number): void {
    if (label === 1) {
      this.totals.positives++;
      this.buckets.add(impressionTs, POSITIVES);
    } else {
      this.totals.negatives++;
      this.buckets.add(impressionTs, NEGATIVES);
      const end = impressionTs + this.windowMs;
      if (end > this.watermark) this.watermark = end;
    }
  }

  addUnattributed(reason: 'late' | 'unknown', clickTs: number): void {
    this.totals[reason]++;
    this.buckets.add(clickTs, reason === 'late' ? LATE : UNKNOWN);
  }

  /** Watermark lag estimated from the topics (ms of event time), null before the first negative. */
  estimatedLagMs(newestImpression: number | null): number | null {
    if (newestImpression === null || this.watermark === -Infinity) return null;
    return Math.max(0, newestImpression - this.watermark);
  }

  /** Records a lag observation at event time `at` (the series shows each bucket's mean). */
  sampleLag(at: number, lagMs: number): void {
    const base = this.buckets.offset(at);
    if (base < 0) return;
    this.buckets.data[base + LAG_SUM] += lagMs;
    this.buckets.data[base + LAG_N]++;
  }

  total(): JoinTotals {
    return { ...this.totals };
  }

  series(from: number, to: number): JoinSeries {
    const b = this.buckets;
    const sums = b.column(from, to, LAG_SUM);
    const ns = b.column(from, to, LAG_N);
    return {
      ts: b.starts(from, to),
      lag_s: sums.map((s, i) => (ns[i] > 0 ? s / ns[i] / 1000 : null)),
      late: b.column(from, to, LATE),
      unknown: b.column(from, to, UNKNOWN),
      positives: b.column(from, to, POSITIVES),
      negatives: b.column(from, to, NEGATIVES),
    };
  }
}
