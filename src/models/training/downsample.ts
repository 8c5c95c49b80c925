import type { RawBatch } from '../../core/index.ts';
import { Random } from './random.ts';

/**
 * Negative downsampling: keeps every click and each non-click with probability `rate`, so
 * training on rare clicks costs less. The model then over-predicts; the calibration's
 * downsampleRate = rate undoes it at serving (q = p / (p + (1 − p) / rate)).
 */
export async function* downsampleNegatives(source: AsyncIterable<RawBatch>, rate: number, seed = 1): AsyncGenerator<RawBatch> {
  const random = new Random(seed);
  for await (const batch of source) {
    const labels = batch.labels!;
    const keep = new Int32Array(batch.n);
    let k = 0;
    for (let i = 0; i < batch.n; i++) if (labels[i] === 1 || random.next() < rate) keep[k++] = i;
    if (k === 0) continue;
    yield {
      n: k,
      schema: batch.schema,
      columns: batch.columns.map((c) => {
        const out = c instanceof Float32Array ? new Float32Array(k) : new Int32Array(k);
        for (let j = 0; j < k; j++) out[j] = c[keep[j]];
        return out;
      }),
      labels: Uint8Array.from({ length: k }, (_, j) => labels[keep[j]]),
      ts: batch.ts ? Float64Array.from({ length: k }, (_, j) => batch.ts![keep[j]]) : undefined,
    };
  }
}
