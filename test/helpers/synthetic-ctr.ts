/**
 * Small labeled RawBatches with a known click model, for learner and metric tests: two
 * categorical fields with per-value effects, one count field whose log matters, and a
 * logistic label. Seeded, so every run sees the same rows.
 */
import { hashCategory } from '../../src/core/index.ts';
import type { FeatureSchema, RawBatch } from '../../src/core/index.ts';

export const SYNTHETIC_SCHEMA: FeatureSchema = {
  fields: [
    { name: 'ad', kind: 'categorical' },
    { name: 'site', kind: 'categorical' },
    { name: 'count', kind: 'numeric' },
  ],
};

export function seededRandom(seed: number): () => number {
  let s = seed | 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Rows with ads a0..a{ads−1}, sites s0..s4, counts 0..1000 (10% missing); the true CTR per row in `truth`. */
export function syntheticBatch(n: number, seed = 1, opts: { ads?: number; base?: number; startTs?: number } = {}): RawBatch & { truth: Float64Array } {
  const rand = seededRandom(seed);
  const ads = opts.ads ?? 20;
  const ad = new Int32Array(n);
  const site = new Int32Array(n);
  const count = new Float32Array(n);
  const labels = new Uint8Array(n);
  const ts = new Float64Array(n);
  const truth = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = Math.floor(rand() * ads);
    const s = Math.floor(rand() * 5);
    const c = rand() < 0.1 ? NaN : Math.floor(rand() * rand() * 1000);
    ad[i] = hashCategory(`a${a}`);
    site[i] = hashCategory(`s${s}`);
    count[i] = c;
    const logit = (opts.base ?? -1.5) + ((a % 5) - 2) * 0.6 + (s - 2) * 0.3 + (Number.isNaN(c) ? 0.5 : -0.2 * Math.log1p(c) + 0.6);
    truth[i] = 1 / (1 + Math.exp(-logit));
    labels[i] = rand() < truth[i] ? 1 : 0;
    ts[i] = (opts.startTs ?? 0) + i;
  }
  return { n, schema: SYNTHETIC_SCHEMA, columns: [ad, site, count], labels, ts, truth };
}

/** Splits a batch into batches of `size` rows (views). */
export function* batchesOf(batch: RawBatch, size: number): Generator<RawBatch> {
  for (let from = 0; from < batch.n; from += size) {
    const to = Math.min(batch.n, from + size);
    yield {
      n: to - from,
      schema: batch.schema,
      columns: batch.columns.map((c) => c.subarray(from, to)),
      labels: batch.labels?.subarray(from, to),
      ts: batch.ts?.subarray(from, to),
    };
  }
}

/** An async source over a batch, as learners' fit takes it. */
export function sourceOf(batch: RawBatch, size = 256): () => AsyncIterable<RawBatch> {
  return async function* () {
    yield* batchesOf(batch, size);
  };
}
