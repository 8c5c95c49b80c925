/**
 * Online evaluation per model version (`name@version` as logged with each impression).
 *
 * Counts are kept in event-time buckets of the impression's time: impressions and Σ pCTR from the
 * impressions topic, clicks from positive labeled examples (an example carries its impression's
 * time, pCTR and version). So a window's CTR is clicks ÷ impressions of the same impressions, and
 * its calibration is Σ pCTR ÷ clicks (mean pCTR ÷ CTR, as offline). Using the impressions topic for
 * the denominator rather than negative examples matters: negatives are emitted only when the
 * attribution window closes, so a window of examples alone would overstate CTR for its last half
 * hour. The newest buckets still miss clicks on their way; callers end windows a settle time early.
 *
 * Logloss and AUC need labels and scores together: they come from the last N joined examples of
 * each version (a ring), i.e. over the examples as the join emits them.
 */
import { auc, logloss } from '../models/index.ts';
import { TimeBuckets } from './time-buckets.ts';

const IMPRESSIONS = 0;
const REQUESTS = 1;
const PREDICTED = 2;
const CLICKS = 3;
const EXAMPLES = 4;
const SLOTS = 5;

export interface VersionTotals {
  readonly impressions: number;
  /** Rank requests that served at least one ad (impressions at position 0). */
  readonly requests: number;
  /** Attributed clicks (positive examples). */
  readonly clicks: number;
  /** Σ pCTR over impressions: the clicks the model expected. */
  readonly predicted: number;
  readonly examples: number;
}

export interface WindowFigures extends VersionTotals {
  /** clicks ÷ impressions; null without impressions. */
  readonly ctr: number | null;
  readonly meanPctr: number | null;
  /** mean pCTR ÷ CTR = Σ pCTR ÷ clicks; null without clicks. */
  readonly calibration: number | null;
}

export interface RecentFigures {
  readonly examples: number;
  readonly positives: number;
  readonly logloss: number | null;
  readonly auc: number | null;
}

export interface VersionSeries {
  readonly ts: number[];
  readonly requests: number[];
  readonly impressions: number[];
  readonly clicks: number[];
  readonly predicted: number[];
}

class VersionState {
  readonly buckets: TimeBuckets;
  impressions = 0;
  requests = 0;
  clicks = 0;
  predicted = 0;
  examples = 0;
  readonly scores: Float32Array;
  readonly labels: Uint8Array;
  /** Examples in the ring (≤ its size) and where the next one goes. */
  filled = 0;
  next = 0;
  recent: RecentFigures | null = null;
  /** Newest event time of an impression or example of this version. */
  lastTs = -Infinity;

  constructor(bucketMs: number, buckets: number, ring: number) {
    this.buckets = new TimeBuckets(bucketMs, buckets, SLOTS);
    this.scores = new Float32Array(ring);
    this.labels = new Uint8Array(ring);
  }
}

export interface OnlineEvaluatorOptions {
  readonly bucketMs: number;
  readonly historyMs: number;
  /** Recent examples kept per version for logloss and AUC. */
  readonly recentExamples: number;
}

export class OnlineEvaluator {
  private readonly states = new Map<string, VersionState>();
  private readonly bucketMs: number;
  private readonly buckets: number;
  private readonly ring: number;
  private readonly scratch = new Float64Array(SLOTS);

  constructor(opts: OnlineEvaluatorOptions) {
    this.bucketMs = opts.bucketMs;
    this.buckets = Math.max(2, Math.ceil(opts.historyMs / opts.bucketMs) + 1);
    this.ring = opts.recentExamples;
  }

  private state(version: string): VersionState {
    let s = this.states.get(version);
    if (s === undefined) {
      s = new VersionState(this.bucketMs, this.buckets, this.ring);
      this.states.set(version, s);
    }
    return s;
  }

  addImpression(version: string, ts: number, pCTR: number, position: number): void {
    const s = this.state(version);
    if (ts > s.lastTs) s.lastTs = ts;
    s.impressions++;
    s.predicted += pCTR;
    const first = position === 0 ? 1 : 0;
    s.requests += first;
    const base = s.buckets.offset(ts);
    if (base < 0) return;
    const d = s.buckets.data;
    d[base + IMPRESSIONS]++;
    d[base + PREDICTED] += pCTR;
    d[base + REQUESTS] += first;
  }

  /** A labeled example: `ts` is its impression's event time. */
  addExample(version: string, ts: number, pCTR: number, label: number): void {
    const s = this.state(version);
    if (ts > s.lastTs) s.lastTs = ts;
    s.examples++;
    s.clicks += label;
    s.scores[s.next] = pCTR;
    s.labels[s.next] = label;
    s.next = (s.next + 1) % s.scores.length;
    if (s.filled < s.scores.length) s.filled++;
    s.recent = null;
    const base = s.buckets.offset(ts);
    if (base < 0) return;
    s.buckets.data[base + EXAMPLES]++;
    s.buckets.data[base + CLICKS] += label;
  }

  /**
   * Forget versions with no impression or example since `before` (event time), except `keep`: the
   * continuous learner publishes many versions, and each costs memory and metric series.
   */
  prune(before: number, keep: ReadonlySet<string>): string[] {
    const gone: string[] = [];
    for (const [version, s] of this.states) {
      if (s.lastTs < before && !keep.has(version)) {
        this.states.delete(version);
        gone.push(version);
      }
    }
    return gone;
  }

  /** Versions seen, in order of first appearance. */
  versions(): string[] {
    return [...this.states.keys()];
  }

  totals(version: string): VersionTotals {
    const s = this.states.get(version);
    if (s === undefined) return { impressions: 0, requests: 0, clicks: 0, predicted: 0, examples: 0 };
    return { impressions: s.impressions, requests: s.requests, clicks: s.clicks, predicted: s.predicted, examples: s.examples };
  }

  /** Figures of impressions in [from, to) (bucket starts). */
  window(version: string, from: number, to: number): WindowFigures {
    const s = this.states.get(version);
    const sum = this.scratch;
    if (s === undefined) sum.fill(0);
    else s.buckets.sum(from, to, sum);
    return figures({ impressions: sum[IMPRESSIONS], requests: sum[REQUESTS], clicks: sum[CLICKS], predicted: sum[PREDICTED], examples: sum[EXAMPLES] });
  }

  /** Logloss and AUC over the version's last N joined examples (cached until the next example). */
  recent(version: string): RecentFigures {
    const s = this.states.get(version);
    if (s === undefined || s.filled === 0) return { examples: 0, positives: 0, logloss: null, auc: null };
    if (s.recent !== null) return s.recent;
    const n = s.filled;
    let positives = 0;
    for (let i = 0; i < n; i++) positives += s.labels[i];
    const a = auc(s.scores, s.labels, n);
    s.recent = { examples: n, positives, logloss: logloss(s.scores, s.labels, n), auc: Number.isNaN(a) ? null : a };
    return s.recent;
  }

  /** Per-bucket counts of impressions in [from, to), oldest first. */
  series(version: string, from: number, to: number): VersionSeries {
    const s = this.states.get(version) ?? new VersionState(this.bucketMs, 2, 1);
    const b = s.buckets;
    return {
      ts: b.starts(from, to),
      requests: b.column(from, to, REQUESTS),
      impressions: b.column(from, to, IMPRESSIONS),
      clicks: b.column(from, to, CLICKS),
      predicted: b.column(from, to, PREDICTED),
    };
  }
}

export function figures(t: VersionTotals): WindowFigures {
  return {
    ...t,
    ctr: t.impressions > 0 ? t.clicks / t.impressions : null,
    meanPctr: t.impressions > 0 ? t.predicted / t.impressions : null,
    calibration: t.clicks > 0 ? t.predicted / t.clicks : null,
  };
}
