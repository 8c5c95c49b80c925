/**
 * Curves for the models view: the ROC curve (one point per distinct score threshold, thinned to
 * at most `maxPoints` for drawing) and the Wilson interval used for CTRs in the A/B view.
 */
import type { Scores } from '../models/index.ts';

export interface RocCurve {
  readonly fpr: number[];
  readonly tpr: number[];
}

/** ROC from (0,0) to (1,1); empty when either class is missing. */
export function rocCurve(scores: Scores, labels: Uint8Array, n = scores.length, maxPoints = 200): RocCurve {
  let positives = 0;
  for (let i = 0; i < n; i++) positives += labels[i];
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return { fpr: [], tpr: [] };
  const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
  const fpr = [0];
  const tpr = [0];
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < n; k++) {
    const i = order[k];
    if (labels[i]) tp++;
    else fp++;
    // A point after each run of tied scores: ties move both rates at once (a diagonal step).
    if (k === n - 1 || scores[order[k + 1]] !== scores[i]) {
      fpr.push(fp / negatives);
      tpr.push(tp / positives);
    }
  }
  if (fpr.length <= maxPoints) return { fpr, tpr };
  const step = (fpr.length - 1) / (maxPoints - 1);
  const pick = Array.from({ length: maxPoints }, (_, j) => Math.round(j * step));
  return { fpr: pick.map((j) => fpr[j]), tpr: pick.map((j) => tpr[j]) };
}

/** 95% Wilson score interval of a rate of `k` successes in `n` trials ([0, 0] when n = 0). */
export function wilson(k: number, n: number, z = 1.96): [number, number] {
  if (n <= 0) return [0, 0];
  const p = k / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const center = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return [Math.max(0, center - half), Math.min(1, center + half)];
}

/** 95% interval of the difference of two rates (b − a), normal approximation. */
export function rateDiffInterval(ka: number, na: number, kb: number, nb: number, z = 1.96): { diff: number; ci: [number, number] } {
  const pa = na > 0 ? ka / na : 0;
  const pb = nb > 0 ? kb / nb : 0;
  const se = Math.sqrt((na > 0 ? (pa * (1 - pa)) / na : 0) + (nb > 0 ? (pb * (1 - pb)) / nb : 0));
  const diff = pb - pa;
  return { diff, ci: [diff - z * se, diff + z * se] };
}
