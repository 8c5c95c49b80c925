/**
 * Progressive validation (McMahan et al. 2013): every example is scored before the model learns
 * from it, so the running metrics are honest test metrics of an online learner. Keeps the last
 * `window` predictions in ring buffers for sliding-window AUC/logloss, plus running totals.
 */
import { evaluate, type Metrics, type Scores } from './metrics.ts';

export class ProgressiveValidator {
  private readonly scores: Float64Array;
  private readonly labels: Uint8Array;
  private next = 0;
  private filled = 0;
  private seen = 0;
  private lossSum = 0;

  constructor(readonly window = 100_000) {
    this.scores = new Float64Array(window);
    this.labels = new Uint8Array(window);
  }

  /** Examples observed so far. */
  get count(): number {
    return this.seen;
  }

  /** Logloss over everything observed since construction. */
  get cumulativeLogloss(): number {
    return this.seen === 0 ? NaN : this.lossSum / this.seen;
  }

  /** Records predictions made before learning from these examples. */
  observe(scores: Scores, labels: Uint8Array, n = scores.length): void {
    const w = this.window;
    for (let i = 0; i < n; i++) {
      const p = Math.min(Math.max(scores[i], 1e-15), 1 - 1e-15);
      this.lossSum -= labels[i] ? Math.log(p) : Math.log(1 - p);
      this.scores[this.next] = scores[i];
      this.labels[this.next] = labels[i];
      this.next = this.next + 1 === w ? 0 : this.next + 1;
    }
    this.seen += n;
    this.filled = Math.min(w, this.filled + n);
  }

  /** The last `window` scores and labels, in ring order rather than time order (for fitting a calibration on them). */
  recent(): { readonly scores: Float64Array; readonly labels: Uint8Array } {
    return { scores: this.scores.subarray(0, this.filled), labels: this.labels.subarray(0, this.filled) };
  }

  /** Metrics over the last `window` examples (AUC is NaN while they hold one class only). */
  windowMetrics(buckets = 10): Metrics {
    return evaluate(this.scores.subarray(0, this.filled), this.labels.subarray(0, this.filled), { buckets });
  }
}
