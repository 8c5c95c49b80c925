/**
 * The smoke test a model passes before it may serve: score a fixed sample of served-feature rows
 * (cold entities with default features, and warm ones with plausible aggregates) exactly as the
 * ranker will, and require a finite probability in [0, 1] for every row. A model that reads fields
 * the ranker does not serve, or that produces NaN, fails here instead of on live traffic.
 */
import { PctrError, errorMessage, type RawBatch } from '../core/index.ts';
import { ENTITY_LAYOUTS, ServedBatchWriter, entityRefs, type FeatureVector, type RankRequestLike } from '../features/index.ts';
import { isAsyncModel, type Model } from '../models/index.ts';

const SAMPLE_ROWS = 8;

function sampleBatch(): RawBatch {
  const request: RankRequestLike = {
    userId: 'smoke-user',
    context: { hour: 13, device: 'mobile', site: 'smoke-site' },
    candidates: Array.from({ length: SAMPLE_ROWS }, (_, i) => ({ adId: `smoke-ad-${i}`, campaignId: `smoke-campaign-${i % 3}`, category: `smoke-category-${i % 2}` })),
  };
  const entities = entityRefs(request);
  // Every other entity is warm (counts and a CTR), the rest cold (null → defaults).
  const vectors: (FeatureVector | null)[] = entities.refs.map((ref, r) => {
    if (r % 2 === 1) return null;
    const names = ENTITY_LAYOUTS[ref.entity as keyof typeof ENTITY_LAYOUTS];
    return Object.fromEntries(names.map((n, j) => [n, n.includes('_ctr_') ? 0.01 * (1 + (r % 5)) : 10 * (r + j)]));
  });
  return new ServedBatchWriter({ capacity: SAMPLE_ROWS }).write(request, entities, vectors);
}

/** Throws PCTR_MODEL_LOAD_FAILED naming `what` and the first bad row when the model fails the smoke test. */
export async function smokeTest(model: Model, what: string): Promise<void> {
  const batch = sampleBatch();
  const out = new Float32Array(batch.n).fill(NaN);
  try {
    if (isAsyncModel(model)) await model.predictAsync(batch, out);
    else model.predict(batch, out);
  } catch (e) {
    throw new PctrError('PCTR_MODEL_LOAD_FAILED', `${what} failed its smoke test: scoring served features threw: ${errorMessage(e)}`, { cause: e });
  }
  for (let i = 0; i < batch.n; i++) {
    const p = out[i];
    if (!(p >= 0 && p <= 1)) {
      throw new PctrError('PCTR_MODEL_LOAD_FAILED', `${what} failed its smoke test: sample row ${i} scored ${p}, not a probability in [0, 1]`, {
        details: { row: i, score: String(p) },
      });
    }
  }
}
