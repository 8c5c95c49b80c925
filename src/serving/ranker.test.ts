import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Impression, PctrError, ShadowScore, TOPICS, loadConfig, silentLogger, type RawBatch } from '../core/index.ts';
import { createEventLog, type EventLog } from '../events/index.ts';
import { MemoryOnlineStore, ServedBatchWriter, assembleServedFeatures, createOnlineStore, entityRefs, type OnlineStore } from '../features/index.ts';
import type { AsyncModel, Model } from '../models/index.ts';
import { createRegistry, type Registry } from '../registry/index.ts';
import type { MarketRequest } from '../sim/index.ts';
import { tempDir } from '../../test/helpers/services.ts';
import { FeatureReader } from './feature-reader.ts';
import { ModelHolder } from './model-holder.ts';
import { PredictionLogger } from './prediction-logger.ts';
import { Ranker } from './ranker.ts';
import type { ServedModel } from './served-model.ts';
import { fixtureRows, marketRequests, registerFixtureModel, trainFixtureModel } from './testing/fixtures.ts';
import { fixtureModel, readTopic } from './testing/gateway-fixture.ts';

let dir: { dir: string; remove: () => void };
let registry: Registry;
let log: EventLog;
let store: MemoryOnlineStore;
let holder: ModelHolder;
let requests: MarketRequest[];

beforeAll(async () => {
  dir = tempDir('ranker');
  registry = await createRegistry({ url: `sqlite:${join(dir.dir, 'registry.db')}`, artifacts: join(dir.dir, 'artifacts'), logger: silentLogger });
  await registerFixtureModel(registry, await fixtureModel(), { alias: 'champion' });
  await registerFixtureModel(registry, await trainFixtureModel({ seed: 3, examples: 3_000, alpha: 0.3 }), { alias: 'challenger' });
  log = await createEventLog(loadConfig({ env: {}, overrides: { 'events.url': `file:${join(dir.dir, 'events')}`, 'events.partitions': 2 } }).events);
  requests = marketRequests(10, { candidates: 60 });
  store = new MemoryOnlineStore();
  // Warm only half the requests' entities: the other half are cold and must be served with the prior.
  await store.put(fixtureRows(requests.slice(0, 5)));
  holder = new ModelHolder({ registry, name: 'ctr', shadow: true });
  await holder.start();
});

afterAll(async () => {
  await holder.close();
  await log.close();
  await registry.close();
  dir.remove();
});

/** What the served model gives each candidate, computed apart from the ranker. */
async function scoresOf(model: Model, request: MarketRequest, vectorsFailed = false): Promise<Float32Array> {
  const entities = entityRefs(request);
  const vectors = vectorsFailed ? null : await store.get(entities.refs);
  const batch = new ServedBatchWriter().write(request, entities, vectors);
  const out = new Float32Array(batch.n);
  model.predict(batch, out);
  return out;
}

describe('Ranker', () => {
  it('serves the top k by eCPM = pCTR × bid, one ad per campaign, with the pCTR the model gives', async () => {
    const ranker = new Ranker({ holder, features: new FeatureReader(store) });
    for (const request of requests) {
      const result = await ranker.rank({ ...request, k: 8 });
      expect(result.modelVersion).toBe('ctr@1');
      expect(result.degraded).toBe(false);
      const scores = await scoresOf(holder.champion.model as Model, request);
      const eCPM = request.candidates.map((c, i) => scores[i] * c.bid);
      // Reference: sort by eCPM, keep the first of each campaign.
      const seen = new Set<string>();
      const expected = request.candidates
        .map((c, i) => ({ c, i }))
        .sort((a, b) => eCPM[b.i] - eCPM[a.i] || a.i - b.i)
        .filter(({ c }) => !seen.has(c.campaignId) && seen.add(c.campaignId))
        .slice(0, 8);
      expect(result.ads.map((a) => a.adId)).toEqual(expected.map((e) => e.c.adId));
      result.ads.forEach((ad, position) => {
        const i = expected[position].i;
        expect(ad.position).toBe(position);
        expect(ad.pCTR).toBeCloseTo(scores[i], 6);
        expect(ad.eCPM).toBeCloseTo(scores[i] * request.candidates[i].bid, 6);
      });
      expect(new Set(result.ads.map((a) => a.impressionId)).size).toBe(result.ads.length);
    }
  });

  it('ranks the same through a store that has only get (no packed reads)', async () => {
    const plain: OnlineStore = { get: (refs) => store.get(refs), put: (rows) => store.put(rows), close: async () => undefined };
    const packed = new Ranker({ holder, features: new FeatureReader(store) });
    const unpacked = new Ranker({ holder, features: new FeatureReader(plain) });
    const strip = (r: Awaited<ReturnType<Ranker['rank']>>) => r.ads.map(({ adId, position, pCTR, eCPM }) => ({ adId, position, pCTR, eCPM }));
    for (const request of requests) expect(strip(await unpacked.rank(request))).toEqual(strip(await packed.rank(request)));
  });

  it('drops candidates under the minimum pCTR', async () => {
    const request = requests[0];
    const scores = await scoresOf(holder.champion.model as Model, request);
    const min = [...scores].sort((a, b) => a - b)[Math.floor(scores.length / 2)];
    const result = await new Ranker({ holder, features: new FeatureReader(store), minPctr: min }).rank({ ...request, k: 100 });
    expect(result.ads.length).toBeGreaterThan(0);
    for (const ad of result.ads) expect(ad.pCTR).toBeGreaterThanOrEqual(min * (1 - 1e-6));
  });

  it('logs every served ad as an impression with the features as served, and the shadow model’s score beside it', async () => {
    const predictions = new PredictionLogger(log, { flushMs: 1 });
    const ranker = new Ranker({ holder, features: new FeatureReader(store), log: predictions });
    const served = [];
    for (const request of requests) served.push({ request, result: await ranker.rank({ ...request, k: 5 }) });
    await predictions.drain();
    const total = served.reduce((s, x) => s + x.result.ads.length, 0);
    const impressions = new Map((await readTopic(log, TOPICS.impressions, total)).map((r) => [r.key, Impression.parse(JSON.parse(r.value))]));
    const shadows = new Map((await readTopic(log, TOPICS.shadowScores, total)).map((r) => [r.key, ShadowScore.parse(JSON.parse(r.value))]));
    const challengerModel = holder.challenger!.model as Model;
    for (const { request, result } of served) {
      const entities = entityRefs(request);
      const vectors = await store.get(entities.refs);
      const challengerScores = await scoresOf(challengerModel, request);
      for (const ad of result.ads) {
        const i = request.candidates.findIndex((c) => c.adId === ad.adId);
        const imp = impressions.get(ad.impressionId)!;
        expect(imp).toMatchObject({ requestId: result.requestId, userId: request.userId, adId: ad.adId, position: ad.position, pCTR: ad.pCTR, modelVersion: 'ctr@1' });
        expect(imp.bid).toBe(request.candidates[i].bid);
        expect(imp.features).toEqual(assembleServedFeatures(request, entities, vectors, i));
        const shadow = shadows.get(ad.impressionId)!;
        expect(shadow).toMatchObject({ modelVersion: 'ctr@1', pCTR: ad.pCTR, shadowModelVersion: 'ctr@2' });
        expect(shadow.shadowPCTR).toBeCloseTo(challengerScores[i], 6);
      }
    }
    await predictions.close();
  });

  it('with the online store down answers with default features, says degraded, and logs the defaults it served', async () => {
    // A real Redis store on a port nothing listens on: every read fails at once.
    const down = createOnlineStore('redis://127.0.0.1:1', { readTimeoutMs: 50 });
    const reader = new FeatureReader(down);
    const ranker = new Ranker({ holder, features: reader });
    const request = requests[0];
    const result = await ranker.rank(request);
    expect(result.degraded).toBe(true);
    expect(reader.degraded).toBe(true);
    expect(reader.status()).toMatchObject({ status: 'degraded', failures: 1 });
    const scores = await scoresOf(holder.champion.model as Model, request, true);
    const top = result.ads[0];
    expect(top.pCTR).toBeCloseTo(scores[request.candidates.findIndex((c) => c.adId === top.adId)], 6);
    await down.close();
  });

  it('awaits an asynchronous scorer (the ONNX path) and gives the same ranking as the synchronous model', async () => {
    const sync = holder.champion;
    const model = sync.model as Model;
    // Scores like the synchronous model, but only after yielding, as ONNX Runtime's run does.
    const asyncModel: AsyncModel = {
      kind: 'async-test',
      schema: model.schema,
      predict: () => {
        throw new PctrError('PCTR_VALIDATION', 'asynchronous model: use predictAsync');
      },
      predictAsync: async (batch: RawBatch, out: Float32Array) => {
        await new Promise((r) => setImmediate(r));
        model.predict(batch, out);
      },
      toArtifact: () => model.toArtifact(),
    };
    const served: ServedModel = { ...sync, label: 'ctr@async', model: asyncModel };
    const asyncRanker = new Ranker({ holder: { route: () => ({ served, shadow: null }) }, features: new FeatureReader(store) });
    const syncRanker = new Ranker({ holder, features: new FeatureReader(store) });
    // Concurrent requests: each holds its own buffers across the await.
    const [a, b] = await Promise.all([asyncRanker.rank(requests[1]), asyncRanker.rank(requests[2])]);
    expect(a.modelVersion).toBe('ctr@async');
    expect(a.ads.map((x) => x.adId)).toEqual((await syncRanker.rank(requests[1])).ads.map((x) => x.adId));
    expect(b.ads.map((x) => x.adId)).toEqual((await syncRanker.rank(requests[2])).ads.map((x) => x.adId));
  });
});
