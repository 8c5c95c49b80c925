/**
 * Scoring a whole labeled source with a model, and its metrics: what `pctr eval`, the training
 * pipeline's evaluation step and the benchmarks share.
 */
import { PctrError } from '../core/index.ts';
import type { RawBatch } from '../core/index.ts';
import { evaluate, type Metrics } from './metrics/metrics.ts';
import { isAsyncModel, type Model } from './model.ts';

export interface ScoredSet {
  readonly n: number;
  readonly scores: Float32Array;
  readonly labels: Uint8Array;
}

/** Predictions and labels of every row of a labeled source. */
export async function scoreSource(model: Model, source: AsyncIterable<RawBatch>): Promise<ScoredSet> {
  let scores = new Float32Array(1 << 14);
  let labels = new Uint8Array(1 << 14);
  let n = 0;
  for await (const batch of source) {
    if (!batch.labels) throw new PctrError('PCTR_DATA_INVALID', 'evaluation batches must carry labels');
    if (n + batch.n > scores.length) {
      const cap = Math.max(n + batch.n, scores.length * 2);
      const s = new Float32Array(cap);
      s.set(scores.subarray(0, n));
      const l = new Uint8Array(cap);
      l.set(labels.subarray(0, n));
      [scores, labels] = [s, l];
    }
    if (isAsyncModel(model)) await model.predictAsync(batch, scores.subarray(n, n + batch.n));
    else model.predict(batch, scores.subarray(n, n + batch.n));
    labels.set(batch.labels, n);
    n += batch.n;
  }
  return { n, scores: scores.subarray(0, n), labels: labels.subarray(0, n) };
}

/** Metrics of a model on a labeled source; PCTR_DATA_INVALID when the source is empty or one class. */
export async function evaluateModel(model: Model, source: AsyncIterable<RawBatch>, opts: { buckets?: number } = {}): Promise<Metrics> {
  const set = await scoreSource(model, source);
  const m = evaluate(set.scores, set.labels, opts);
  if (m.n === 0) throw new PctrError('PCTR_DATA_INVALID', 'the evaluation data has no rows');
  if (m.positives === 0 || m.positives === m.n) {
    throw new PctrError('PCTR_DATA_INVALID', `AUC is undefined: all ${m.n} evaluation labels are ${m.positives === 0 ? 0 : 1}`, {
      details: { n: m.n, positives: m.positives },
    });
  }
  return m;
}
