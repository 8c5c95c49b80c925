import { describe, expect, it } from 'vitest';
import { REQUEST_FEATURES, RawBatchBuilder, hashCategory, type RawBatch } from '../core/index.ts';
import { DEFAULT_CTR_PRIOR, ENTITY_LAYOUTS, defaultFeatures, servedFeatureSchema } from './definitions.ts';
import { MemoryOnlineStore } from './online-store/memory.ts';
import { ServedBatchWriter, assembleServedFeatures, entityRefs, type RankRequestLike } from './served.ts';

const request: RankRequestLike = {
  userId: 'u1',
  context: { hour: 13, device: 'mobile', site: 'news.example' },
  candidates: [
    { adId: 'a1', campaignId: 'c1', category: 'sports' },
    { adId: 'a2', campaignId: 'c1', category: 'travel' },
    { adId: 'a1', campaignId: 'c1', category: 'sports' },
    { adId: 'a3', campaignId: 'c2', category: 'sports' },
  ],
};

function vector(names: readonly string[], base: number): Record<string, number> {
  return Object.fromEntries(names.map((n, i) => [n, base + i]));
}

const rows = (b: RawBatch) => Array.from({ length: b.n }, (_, r) => b.columns.map((c) => c[r]));

describe('served features', () => {
  it('serves the request-level features, then 6 aggregates for each of user, ad, campaign, user×category', () => {
    const names = servedFeatureSchema().fields.map((f) => f.name);
    expect(names.slice(0, 7)).toEqual(REQUEST_FEATURES.map((f) => f.name));
    expect(names.slice(7, 13)).toEqual(['user_imps_1h', 'user_clicks_1h', 'user_ctr_1h', 'user_imps_24h', 'user_clicks_24h', 'user_ctr_24h']);
    expect(names).toHaveLength(7 + 4 * 6);
    expect(new Set(names).size).toBe(names.length);
    expect(servedFeatureSchema().fields.slice(7).every((f) => f.kind === 'numeric')).toBe(true);
  });

  it('gives a cold entity zero counts and the prior CTR', () => {
    expect(defaultFeatures('ad')).toEqual({ ad_imps_1h: 0, ad_clicks_1h: 0, ad_ctr_1h: DEFAULT_CTR_PRIOR.ctr, ad_imps_24h: 0, ad_clicks_24h: 0, ad_ctr_24h: DEFAULT_CTR_PRIOR.ctr });
  });

  it('reads each entity of a request once: the user, distinct ads, campaigns and user×categories', () => {
    const e = entityRefs(request);
    expect(e.refs).toEqual([
      { entity: 'user', key: 'u1' },
      { entity: 'ad', key: 'a1' },
      { entity: 'ad', key: 'a2' },
      { entity: 'ad', key: 'a3' },
      { entity: 'campaign', key: 'c1' },
      { entity: 'campaign', key: 'c2' },
      { entity: 'user_category', key: 'u1|sports' },
      { entity: 'user_category', key: 'u1|travel' },
    ]);
    expect(Array.from(e.ad)).toEqual([1, 2, 1, 3]);
    expect(Array.from(e.campaign)).toEqual([4, 4, 4, 5]);
    expect(Array.from(e.userCategory)).toEqual([6, 7, 6, 6]);
  });

  it('deduplicates large requests like a Map would (hash collisions included), with each id\'s category hash', () => {
    // 700 candidates from small pools of ids: many duplicates, and a 2048-slot table with collisions.
    const big: RankRequestLike = {
      userId: 'u9',
      context: request.context,
      candidates: Array.from({ length: 700 }, (_, i) => ({ adId: `a${(i * 7919) % 500}`, campaignId: `c${(i * 31) % 90}`, category: `k${(i * 13) % 40}` })),
    };
    const e = entityRefs(big);
    const expected: { entity: string; key: string }[] = [{ entity: 'user', key: 'u9' }];
    const index = (entity: string, key: string) => {
      let at = expected.findIndex((r) => r.entity === entity && r.key === key);
      if (at < 0) at = expected.push({ entity, key }) - 1;
      return at;
    };
    const ad = big.candidates.map((c) => index('ad', c.adId));
    const campaign = big.candidates.map((c) => index('campaign', c.campaignId));
    const userCategory = big.candidates.map((c) => index('user_category', `u9|${c.category}`));
    expect(e.refs).toEqual(expected);
    expect(Array.from(e.ad)).toEqual(ad);
    expect(Array.from(e.campaign)).toEqual(campaign);
    expect(Array.from(e.userCategory)).toEqual(userCategory);
    expect(Array.from(e.adCode)).toEqual(big.candidates.map((c) => hashCategory(c.adId)));
    expect(Array.from(e.categoryCode)).toEqual(big.candidates.map((c) => hashCategory(c.category)));
  });

  it('writes into columns exactly what the logged record of each candidate holds', async () => {
    const store = new MemoryOnlineStore();
    await store.put([
      { ref: { entity: 'user', key: 'u1' }, values: vector(ENTITY_LAYOUTS.user, 100), ts: 1 },
      { ref: { entity: 'ad', key: 'a1' }, values: vector(ENTITY_LAYOUTS.ad, 200), ts: 1 },
      { ref: { entity: 'ad', key: 'a3' }, values: vector(ENTITY_LAYOUTS.ad, 300), ts: 1 },
      { ref: { entity: 'campaign', key: 'c1' }, values: vector(ENTITY_LAYOUTS.campaign, 400), ts: 1 },
      { ref: { entity: 'user_category', key: 'u1|travel' }, values: vector(ENTITY_LAYOUTS.user_category, 500), ts: 1 },
    ]);
    const e = entityRefs(request);
    const vectors = await store.get(e.refs);
    const writer = new ServedBatchWriter({ capacity: 2 });
    const batch = writer.write(request, e, vectors);
    const builder = new RawBatchBuilder(servedFeatureSchema());
    const records = request.candidates.map((_, i) => assembleServedFeatures(request, e, vectors, i));
    for (const r of records) builder.add(r);
    expect(rows(batch)).toEqual(rows(builder.build()));
    expect(records[1]).toMatchObject({ user_id: 'u1', ad_id: 'a2', ctx_hour: 13, user_imps_1h: 100, ad_imps_1h: 0, ad_ctr_1h: DEFAULT_CTR_PRIOR.ctr, user_category_imps_1h: 500 });
    expect(records[3]).toMatchObject({ ad_imps_1h: 300, campaign_ctr_24h: DEFAULT_CTR_PRIOR.ctr, user_category_imps_1h: 0 });
  });

  it('falls back to the prior for every entity when the store failed (vectors null)', () => {
    const e = entityRefs(request);
    const prior = { ctr: 0.05, weight: 10 };
    const batch = new ServedBatchWriter({ prior }).write(request, e, null);
    const builder = new RawBatchBuilder(servedFeatureSchema());
    for (let i = 0; i < request.candidates.length; i++) builder.add(assembleServedFeatures(request, e, null, i, prior));
    expect(rows(batch)).toEqual(rows(builder.build()));
    expect(assembleServedFeatures(request, e, null, 0, prior).user_category_ctr_24h).toBe(0.05);
  });

  it('reuses its buffers across requests of different sizes', () => {
    const writer = new ServedBatchWriter({ capacity: 1 });
    const big: RankRequestLike = { ...request, candidates: Array.from({ length: 150 }, (_, i) => ({ adId: `a${i}`, campaignId: `c${i % 7}`, category: `k${i % 3}` })) };
    expect(writer.write(big, entityRefs(big), null).n).toBe(150);
    const small = writer.write(request, entityRefs(request), null);
    expect(small.n).toBe(4);
    expect(small.columns.every((c) => c.length === 4)).toBe(true);
  });
});
