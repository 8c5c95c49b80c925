/**
 * Rates and latency of a gateway in this process, from its own Prometheus metrics (nothing is
 * measured twice): every tick the sampler reads the cumulative counters and the rank route's
 * latency buckets, keeps the last samples in a ring, and answers "per second over the last N
 * seconds" and "p99 over the last N seconds" from differences, as Prometheus's rate() and
 * histogram_quantile() would.
 */
import type { Counter, Histogram } from 'prom-client';
import type { ServingParts } from '../serving/index.ts';

const RANK_ROUTE = '/v1/rank';

/** Cumulative values read at one tick. */
interface Sample {
  readonly at: number;
  readonly requests: number;
  readonly serverErrors: number;
  readonly rank: number;
  /** Rank latency: cumulative count per bucket upper bound (seconds), in bound order. */
  readonly rankBuckets: Float64Array;
  readonly candidates: number;
  readonly impressions: number;
  readonly featureReads: number;
  readonly featureMisses: number;
  readonly featureFailures: number;
  readonly clicksAccepted: number;
  readonly logAppended: number;
  readonly logDropped: number;
}

export type SampledCounter = Exclude<keyof Sample, 'at' | 'rankBuckets'>;

export class ServingSampler {
  private readonly samples: Sample[] = [];
  private bounds: number[] = [];

  constructor(
    private readonly parts: ServingParts,
    private readonly keep = 120,
  ) {}

  async sample(at: number): Promise<void> {
    const m = this.parts.metrics;
    const http = await m.httpDuration.get();
    let requests = 0;
    let serverErrors = 0;
    let rank = 0;
    const byBound = new Map<number, number>();
    for (const v of http.values) {
      const labels = v.labels as Record<string, string | number>;
      if (v.metricName?.endsWith('_count')) {
        requests += v.value;
        if (String(labels.status).startsWith('5')) serverErrors += v.value;
        if (labels.route === RANK_ROUTE) rank += v.value;
      } else if (v.metricName?.endsWith('_bucket') && labels.route === RANK_ROUTE) {
        const le = labels.le === '+Inf' ? Infinity : Number(labels.le);
        byBound.set(le, (byBound.get(le) ?? 0) + v.value);
      }
    }
    this.bounds = [...byBound.keys()].sort((a, b) => a - b);
    const rankBuckets = Float64Array.from(this.bounds, (b) => byBound.get(b) ?? 0);
    const [candidates, impressions, featureReads, featureMisses, featureFailures, clicksAccepted] = await Promise.all([
      total(m.candidatesScored),
      total(m.impressionsServed),
      total(m.featureReads),
      total(m.featureMisses),
      total(m.featureFailures),
      total(m.eventsAccepted, (l) => l.type === 'click'),
    ]);
    const log = this.parts.predictions.stats();
    this.samples.push({ at, requests, serverErrors, rank, rankBuckets, candidates, impressions, featureReads, featureMisses, featureFailures, clicksAccepted, logAppended: log.appended, logDropped: log.dropped });
    if (this.samples.length > this.keep) this.samples.shift();
  }

  /** Per second over about the last `overMs` (null until two samples exist). */
  rate(name: SampledCounter, overMs = 10_000): number | null {
    const pair = this.pair(overMs);
    if (pair === null) return null;
    const [a, b] = pair;
    return Math.max(0, b[name] - a[name]) / ((b.at - a.at) / 1000);
  }

  /** The latest cumulative value. */
  latest(name: SampledCounter): number | null {
    return this.samples.at(-1)?.[name] ?? null;
  }

  /** Rank latency quantile (seconds) over about the last `overMs`, interpolated inside the bucket; null without requests. */
  rankQuantile(q: number, overMs = 10_000): number | null {
    const pair = this.pair(overMs);
    if (pair === null) return null;
    const [a, b] = pair;
    if (a.rankBuckets.length !== b.rankBuckets.length) return null;
    const n = b.rankBuckets.length;
    const total = n > 0 ? b.rankBuckets[n - 1] - a.rankBuckets[n - 1] : 0;
    if (total <= 0) return null;
    const rank = q * total;
    let prevCount = 0;
    let prevBound = 0;
    for (let i = 0; i < n; i++) {
      const count = b.rankBuckets[i] - a.rankBuckets[i];
      const bound = this.bounds[i];
      if (count >= rank) {
        // Beyond the last finite bound, answer that bound (as histogram_quantile does).
        if (!Number.isFinite(bound)) return prevBound;
        return prevBound + ((bound - prevBound) * (rank - prevCount)) / Math.max(count - prevCount, 1e-12);
      }
      prevCount = count;
      prevBound = bound;
    }
    return prevBound;
  }

  /** The oldest sample at least `overMs` before the newest (or the oldest there is) and the newest. */
  private pair(overMs: number): [Sample, Sample] | null {
    const s = this.samples;
    if (s.length < 2) return null;
    const b = s[s.length - 1];
    let a = s[0];
    for (let i = s.length - 2; i >= 0; i--) {
      if (b.at - s[i].at >= overMs) {
        a = s[i];
        break;
      }
    }
    return b.at > a.at ? [a, b] : null;
  }
}

async function total<T extends string>(metric: Counter<T> | Histogram<T>, keep?: (labels: Record<string, unknown>) => boolean): Promise<number> {
  const v = await metric.get();
  let sum = 0;
  for (const x of v.values) if (keep === undefined || keep(x.labels as Record<string, unknown>)) sum += x.value;
  return sum;
}
