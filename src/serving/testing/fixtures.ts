/**
 * Fixtures for serving tests and the serving benchmark: realistic rank requests from the simulator,
 * a warm online store (a deterministic aggregate vector for every entity those requests name), and
 * a small FTRL model trained on the served feature set with simulator clicks as labels.
 */
import { RawBatchBuilder, hashString, type FeatureValue, type RawBatch } from '../../core/index.ts';
import { ENTITY_LAYOUTS, entityRefs, servedFeatureSchema, smoothedCtr, userCategoryKey, type EntityType, type FeatureRow } from '../../features/index.ts';
import { FtrlLearner, FtrlParams, encodeArtifact } from '../../models/index.ts';
import type { Registry } from '../../registry/index.ts';
import { AdMarket, Rng, requestFeatures, type MarketRequest } from '../../sim/index.ts';

export const FIXTURE_START_TS = Date.UTC(2024, 0, 1, 8);

/** `count` rank requests with `candidates` candidates each, one simulated second apart. */
export function marketRequests(count: number, opts: { seed?: number; candidates?: number; users?: number } = {}): MarketRequest[] {
  const market = new AdMarket({ seed: opts.seed ?? 7, candidates: opts.candidates ?? 100, users: opts.users ?? 2_000, startTs: FIXTURE_START_TS });
  return Array.from({ length: count }, (_, i) => market.nextRequest(FIXTURE_START_TS + i * 1000));
}

/** A deterministic aggregate vector for an entity (counts and a smoothed CTR per window). */
export function fixtureVector(entity: EntityType, key: string): Record<string, number> {
  const h = hashString(`${entity}:${key}`, 99);
  const imps1h = h % 50;
  const imps24h = imps1h * 20 + (h >>> 8) % 400;
  const rate = 0.005 + ((h >>> 16) % 60) / 1000;
  const clicks1h = Math.round(imps1h * rate);
  const clicks24h = Math.round(imps24h * rate);
  const [a, b, c, d, e, f] = ENTITY_LAYOUTS[entity];
  return { [a]: imps1h, [b]: clicks1h, [c]: smoothedCtr(clicks1h, imps1h), [d]: imps24h, [e]: clicks24h, [f]: smoothedCtr(clicks24h, imps24h) };
}

/** Feature rows for every entity the requests read, to warm an online store. */
export function fixtureRows(requests: readonly MarketRequest[]): FeatureRow[] {
  const seen = new Set<string>();
  const rows: FeatureRow[] = [];
  for (const r of requests) {
    for (const ref of entityRefs(r).refs) {
      const id = `${ref.entity}\u0000${ref.key}`;
      if (seen.has(id)) continue;
      seen.add(id);
      rows.push({ ref, values: fixtureVector(ref.entity as EntityType, ref.key), ts: r.ts });
    }
  }
  return rows;
}

/** Served features of one candidate with the fixture aggregates (what a warm store serves). */
function servedRow(req: MarketRequest, i: number): Record<string, FeatureValue> {
  const c = req.candidates[i];
  return {
    ...requestFeatures(req.userId, c, req.context),
    ...fixtureVector('user', req.userId),
    ...fixtureVector('ad', c.adId),
    ...fixtureVector('campaign', c.campaignId),
    ...fixtureVector('user_category', userCategoryKey(req.userId, c.category)),
  };
}

/**
 * An FTRL model over the served feature set, trained on `examples` simulated impressions (a few
 * random candidates per request, labels from the simulator's clicks); returns the artifact bytes.
 */
export async function trainFixtureModel(opts: { seed?: number; examples?: number; bits?: number; alpha?: number } = {}): Promise<Uint8Array> {
  const seed = opts.seed ?? 7;
  const examples = opts.examples ?? 20_000;
  const market = new AdMarket({ seed, candidates: 40, users: 2_000, startTs: FIXTURE_START_TS });
  const rng = new Rng(seed, 'fixture-train');
  const builder = new RawBatchBuilder(servedFeatureSchema(), examples);
  for (let t = 0; builder.n < examples; t++) {
    const ts = FIXTURE_START_TS + t * 1000;
    const req = market.nextRequest(ts);
    for (let position = 0; position < 4 && builder.n < examples; position++) {
      const i = rng.int(req.candidates.length);
      const label = market.outcome(req, req.candidates[i].adId, position, ts).click === null ? 0 : 1;
      builder.add(servedRow(req, i), label, ts);
    }
  }
  const batch: RawBatch = builder.build({ labels: true, ts: true });
  const learner = new FtrlLearner(servedFeatureSchema(), FtrlParams.parse({ bits: opts.bits ?? 18, alpha: opts.alpha ?? 0.1 }));
  await learner.fit(async function* () {
    yield batch;
  });
  return encodeArtifact(learner.toArtifact());
}

/** Register artifact bytes as a version of `name` and point `alias` (if given) at it. */
export async function registerFixtureModel(registry: Registry, bytes: Uint8Array, opts: { name?: string; alias?: string } = {}): Promise<number> {
  const name = opts.name ?? 'ctr';
  const v = await registry.register(name, bytes, { kind: 'ftrl', params: {}, metrics: {} });
  if (opts.alias) await registry.setAlias(name, opts.alias, v.version);
  return v.version;
}
