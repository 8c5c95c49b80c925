/**
 * Assembling served features for one rank request: which entities to read from the online store
 * (one batched `get`), and writing request-level + aggregate features for every candidate, either
 * straight into columns (the ranker's hot path) or as a record (what gets logged with the impression).
 */
import { hashCategory, type FeatureSchema, type Features, type RawBatch, type RequestContext } from '../core/index.ts';
import {
  DEFAULT_CTR_PRIOR,
  ENTITY_LAYOUTS,
  ENTITY_TYPES,
  LAYOUT_WIDTH,
  defaultFeatures,
  servedFeatureSchema,
  userCategoryKey,
  type CtrPrior,
  type EntityType,
} from './definitions.ts';
import type { EntityRef, FeatureVector } from './online-store/online-store.ts';

/** The parts of a candidate the features need (the serving module's candidate type is wider). */
export interface CandidateLike {
  readonly adId: string;
  readonly campaignId: string;
  readonly category: string;
}

/** The parts of a rank request the features need. */
export interface RankRequestLike {
  readonly userId: string;
  readonly context: RequestContext;
  readonly candidates: readonly CandidateLike[];
}

/** The deduplicated entity refs of one request, and for every candidate the index of its refs. */
export interface RequestEntities {
  /** `[user, distinct ads…, distinct campaigns…, distinct user×categories…]`: pass to `OnlineStore.get` as is. */
  readonly refs: EntityRef[];
  /** Index of the user's ref (always 0). */
  readonly user: number;
  readonly ad: Int32Array;
  readonly campaign: Int32Array;
  readonly userCategory: Int32Array;
}

function dedup(refs: EntityRef[], entity: EntityType, keys: readonly string[], out: Int32Array): void {
  const seen = new Map<string, number>();
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    let at = seen.get(key);
    if (at === undefined) {
      at = refs.length;
      refs.push({ entity, key });
      seen.set(key, at);
    }
    out[i] = at;
  }
}

/** The entities one rank request reads: the user, each distinct ad, campaign and user×category. */
export function entityRefs(request: RankRequestLike): RequestEntities {
  const n = request.candidates.length;
  const refs: EntityRef[] = [{ entity: 'user', key: request.userId }];
  const ad = new Int32Array(n);
  const campaign = new Int32Array(n);
  const userCategory = new Int32Array(n);
  const c = request.candidates;
  dedup(refs, 'ad', c.map((x) => x.adId), ad);
  dedup(refs, 'campaign', c.map((x) => x.campaignId), campaign);
  dedup(refs, 'user_category', c.map((x) => userCategoryKey(request.userId, x.category)), userCategory);
  return { refs, user: 0, ad, campaign, userCategory };
}

/**
 * The full served feature record of candidate `i` (request-level + aggregates), as it is logged with
 * the impression. `vectors` is what `OnlineStore.get(entities.refs)` returned, or null when the store
 * failed (then every aggregate is the prior).
 */
export function assembleServedFeatures(
  request: RankRequestLike,
  entities: RequestEntities,
  vectors: readonly (FeatureVector | null)[] | null,
  i: number,
  prior: CtrPrior = DEFAULT_CTR_PRIOR,
): Features {
  const cand = request.candidates[i];
  const out: Features = {
    user_id: request.userId,
    ad_id: cand.adId,
    campaign_id: cand.campaignId,
    ad_category: cand.category,
    ctx_hour: request.context.hour,
    ctx_device: request.context.device,
    ctx_site: request.context.site,
  };
  const refIndex: Record<EntityType, number> = {
    user: entities.user,
    ad: entities.ad[i],
    campaign: entities.campaign[i],
    user_category: entities.userCategory[i],
  };
  for (const entity of ENTITY_TYPES) {
    const v = vectors?.[refIndex[entity]] ?? null;
    const defaults = defaultFeatures(entity, prior);
    for (const name of ENTITY_LAYOUTS[entity]) out[name] = v?.[name] ?? defaults[name];
  }
  return out;
}

/** Column of each served feature in the schema (looked up by name, not assumed). */
const COL = Object.fromEntries(servedFeatureSchema().fields.map((f, i) => [f.name, i])) as Record<string, number>;
const FIRST_AGGREGATE_COLUMN = COL[ENTITY_LAYOUTS[ENTITY_TYPES[0]][0]];

/**
 * Writes the served features of a whole request into reusable typed-array columns (schema =
 * `servedFeatureSchema()`), for scoring 100+ candidates without a per-candidate object. The batch it
 * returns views the writer's buffers: it is valid until the next `write`.
 */
export class ServedBatchWriter {
  readonly schema: FeatureSchema = servedFeatureSchema();
  private readonly prior: CtrPrior;
  private capacity: number;
  private columns: (Int32Array | Float32Array)[];
  /** Aggregate values per ref, filled once per request: LAYOUT_WIDTH values per ref. */
  private slab = new Float32Array(0);
  private readonly defaults: Float32Array;

  constructor(opts: { capacity?: number; prior?: CtrPrior } = {}) {
    this.prior = opts.prior ?? DEFAULT_CTR_PRIOR;
    this.capacity = Math.max(1, opts.capacity ?? 256);
    this.columns = this.allocate(this.capacity);
    this.defaults = new Float32Array(ENTITY_TYPES.length * LAYOUT_WIDTH);
    ENTITY_TYPES.forEach((e, k) => {
      const d = defaultFeatures(e, this.prior);
      ENTITY_LAYOUTS[e].forEach((name, j) => (this.defaults[k * LAYOUT_WIDTH + j] = d[name]));
    });
  }

  write(request: RankRequestLike, entities: RequestEntities, vectors: readonly (FeatureVector | null)[] | null): RawBatch {
    const n = request.candidates.length;
    if (n > this.capacity) {
      this.capacity = Math.max(n, this.capacity * 2);
      this.columns = this.allocate(this.capacity);
    }
    this.fillSlab(entities, vectors);
    const cols = this.columns;
    const user = hashCategory(request.userId);
    const hour = hashCategory(String(request.context.hour));
    const device = hashCategory(request.context.device);
    const site = hashCategory(request.context.site);
    cols[COL.user_id].fill(user, 0, n);
    cols[COL.ctx_hour].fill(hour, 0, n);
    cols[COL.ctx_device].fill(device, 0, n);
    cols[COL.ctx_site].fill(site, 0, n);
    const adCol = cols[COL.ad_id];
    const campaignCol = cols[COL.campaign_id];
    const categoryCol = cols[COL.ad_category];
    for (let i = 0; i < n; i++) {
      const cand = request.candidates[i];
      adCol[i] = hashCategory(cand.adId);
      campaignCol[i] = hashCategory(cand.campaignId);
      categoryCol[i] = hashCategory(cand.category);
      // Entity order here is ENTITY_TYPES order, which is the schema's aggregate column order.
      let col = FIRST_AGGREGATE_COLUMN;
      col = this.copyRef(cols, col, i, entities.user);
      col = this.copyRef(cols, col, i, entities.ad[i]);
      col = this.copyRef(cols, col, i, entities.campaign[i]);
      this.copyRef(cols, col, i, entities.userCategory[i]);
    }
    return { n, schema: this.schema, columns: cols.map((c) => c.subarray(0, n)) };
  }

  private copyRef(cols: (Int32Array | Float32Array)[], col: number, row: number, ref: number): number {
    const slab = this.slab;
    const base = ref * LAYOUT_WIDTH;
    for (let j = 0; j < LAYOUT_WIDTH; j++) cols[col + j][row] = slab[base + j];
    return col + LAYOUT_WIDTH;
  }

  /** Decode each distinct ref's vector once (not once per candidate); missing → the prior. */
  private fillSlab(entities: RequestEntities, vectors: readonly (FeatureVector | null)[] | null): void {
    const refs = entities.refs;
    if (this.slab.length < refs.length * LAYOUT_WIDTH) this.slab = new Float32Array(refs.length * LAYOUT_WIDTH * 2);
    const slab = this.slab;
    for (let r = 0; r < refs.length; r++) {
      const k = ENTITY_TYPES.indexOf(refs[r].entity as EntityType);
      const names = ENTITY_LAYOUTS[ENTITY_TYPES[k]];
      const v = vectors?.[r] ?? null;
      for (let j = 0; j < LAYOUT_WIDTH; j++) {
        const x = v === null ? undefined : v[names[j]];
        slab[r * LAYOUT_WIDTH + j] = x ?? this.defaults[k * LAYOUT_WIDTH + j];
      }
    }
  }

  private allocate(cap: number): (Int32Array | Float32Array)[] {
    return this.schema.fields.map((f) => (f.kind === 'numeric' ? new Float32Array(cap) : new Int32Array(cap)));
  }
}
