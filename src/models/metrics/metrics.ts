/**
 * Offline quality metrics of click predictions: exact ROC AUC (ties count half), logloss,
 * normalized entropy (logloss ÷ entropy of the observed click rate; He et al. 2014), calibration
 * (mean pCTR ÷ observed CTR) with reliability buckets, and all of them per segment. Undefined
 * values (AUC with one class, NE with a zero-entropy base rate) are NaN rather than errors, so
 * per-segment reports can carry them; callers that need them decide what a NaN means.
 */

export type Scores = Float32Array | Float64Array;

/** Probabilities are clamped here before taking logs, as sklearn's log_loss does. */
const EPS = 1e-15;

/** ROC AUC as the Mann–Whitney statistic, O(n log n) with native sorts: P(score⁺ > score⁻) + ½·P(tie). */
export function auc(scores: Scores, labels: Uint8Array, n = scores.length): number {
  let positives = 0;
  for (let i = 0; i < n; i++) positives += labels[i];
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return NaN;
  const pos = new Float64Array(positives);
  const neg = new Float64Array(negatives);
  for (let i = 0, a = 0, b = 0; i < n; i++) {
    if (labels[i]) pos[a++] = scores[i];
    else neg[b++] = scores[i];
  }
  pos.sort();
  neg.sort();
  // below = negatives scoring < s, atOrBelow = negatives scoring ≤ s; both only grow as s grows.
  let below = 0;
  let atOrBelow = 0;
  let wins = 0;
  for (let i = 0; i < positives; i++) {
    const s = pos[i];
    while (below < negatives && neg[below] < s) below++;
    if (atOrBelow < below) atOrBelow = below;
    while (atOrBelow < negatives && neg[atOrBelow] <= s) atOrBelow++;
    wins += below + 0.5 * (atOrBelow - below);
  }
  return wins / (positives * negatives);
}

/** Mean binary cross-entropy, natural log, probabilities clamped to [1e−15, 1 − 1e−15]. */
export function logloss(scores: Scores, labels: Uint8Array, n = scores.length): number {
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const p = Math.min(Math.max(scores[i], EPS), 1 - EPS);
    sum -= labels[i] ? Math.log(p) : Math.log(1 - p);
  }
  return sum / n;
}

/** Entropy (nats) of a Bernoulli with rate p: the logloss of always predicting the base rate. */
export function entropy(p: number): number {
  if (p <= 0 || p >= 1) return 0;
  return -(p * Math.log(p) + (1 - p) * Math.log(1 - p));
}

export interface ReliabilityBucket {
  /** Score range [lo, hi] of the bucket. */
  readonly lo: number;
  readonly hi: number;
  readonly count: number;
  readonly meanPredicted: number;
  readonly observedRate: number;
}

export interface Metrics {
  readonly n: number;
  readonly positives: number;
  readonly auc: number;
  readonly logloss: number;
  /** Normalized entropy: logloss ÷ entropy(observed CTR); below 1 beats predicting the base rate. */
  readonly ne: number;
  /** Mean predicted CTR ÷ observed CTR; 1 is calibrated on average. */
  readonly calibration: number;
  readonly meanPredicted: number;
  readonly observedRate: number;
  readonly reliability: readonly ReliabilityBucket[];
}

/** Buckets holding about equal numbers of examples, by predicted score. */
export function reliability(scores: Scores, labels: Uint8Array, buckets = 10, n = scores.length): ReliabilityBucket[] {
  if (n === 0) return [];
  const sorted = Float64Array.from(scores.subarray(0, n)).sort();
  const k = Math.max(1, Math.min(buckets, n));
  // Upper edges of buckets 0..k−2; ties may leave some buckets empty, which are dropped.
  const edges = Float64Array.from({ length: k - 1 }, (_, i) => sorted[Math.floor(((i + 1) * n) / k) - 1]);
  const count = new Float64Array(k);
  const sumP = new Float64Array(k);
  const sumY = new Float64Array(k);
  const lo = new Float64Array(k).fill(Infinity);
  const hi = new Float64Array(k).fill(-Infinity);
  for (let i = 0; i < n; i++) {
    const s = scores[i];
    let a = 0;
    let b = k - 1;
    while (a < b) {
      const m = (a + b) >>> 1;
      if (s <= edges[m]) b = m;
      else a = m + 1;
    }
    count[a]++;
    sumP[a] += s;
    sumY[a] += labels[i];
    if (s < lo[a]) lo[a] = s;
    if (s > hi[a]) hi[a] = s;
  }
  const out: ReliabilityBucket[] = [];
  for (let b = 0; b < k; b++) {
    if (count[b] === 0) continue;
    out.push({ lo: lo[b], hi: hi[b], count: count[b], meanPredicted: sumP[b] / count[b], observedRate: sumY[b] / count[b] });
  }
  return out;
}

export function evaluate(scores: Scores, labels: Uint8Array, opts: { n?: number; buckets?: number } = {}): Metrics {
  const n = opts.n ?? scores.length;
  let positives = 0;
  let sumP = 0;
  for (let i = 0; i < n; i++) {
    positives += labels[i];
    sumP += scores[i];
  }
  const observedRate = n === 0 ? NaN : positives / n;
  const meanPredicted = n === 0 ? NaN : sumP / n;
  const ll = n === 0 ? NaN : logloss(scores, labels, n);
  const h = entropy(observedRate);
  return {
    n,
    positives,
    auc: auc(scores, labels, n),
    logloss: ll,
    ne: h > 0 ? ll / h : NaN,
    calibration: positives > 0 ? meanPredicted / observedRate : NaN,
    meanPredicted,
    observedRate,
    reliability: reliability(scores, labels, opts.buckets ?? 10, n),
  };
}

/** Metrics per segment id (e.g. device type, hour, campaign), each over its own examples. */
export function evaluateBySegment(scores: Scores, labels: Uint8Array, segments: Int32Array, opts: { n?: number; buckets?: number } = {}): Map<number, Metrics> {
  const n = opts.n ?? scores.length;
  const counts = new Map<number, number>();
  for (let i = 0; i < n; i++) counts.set(segments[i], (counts.get(segments[i]) ?? 0) + 1);
  const groups = new Map<number, { s: Float64Array; y: Uint8Array; k: number }>();
  for (const [seg, c] of counts) groups.set(seg, { s: new Float64Array(c), y: new Uint8Array(c), k: 0 });
  for (let i = 0; i < n; i++) {
    const g = groups.get(segments[i])!;
    g.s[g.k] = scores[i];
    g.y[g.k++] = labels[i];
  }
  const out = new Map<number, Metrics>();
  for (const [seg, g] of groups) out.set(seg, evaluate(g.s, g.y, { buckets: opts.buckets }));
  return out;
}
