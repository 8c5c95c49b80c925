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
  /** Per candidate, `hashCategory` of its ad id, campaign id and category (the batch's columns). */
  readonly adCode: Int32Array;
  readonly campaignCode: Int32Array;
  readonly categoryCode: Int32Array;
}

/**
 * Open-addressing table of the dedup (slot → ref index + 1; 0 = empty), keyed by the ids'
 * category hashes, which the batch needs anyway: no Map and no second hash per id. Shared, as
 * entityRefs never yields.
 */
let table = new Int32Array(1024);

/**
 * Deduplicate one id per candidate (`idOf(i)`, hashed `codes[i]`) into refs of `entity` appended
 * from `refs[count]`; `out[i]` gets candidate i's ref. Returns the new ref count.
 */
function dedupIds(refs: EntityRef[], count: number, entity: EntityType, idOf: (i: number) => string, codes: Int32Array, out: Int32Array, mask: number): number {
  table.fill(0, 0, mask + 1);
  for (let i = 0; i < out.length; i++) {
    const id = idOf(i);
    for (let slot = codes[i] & mask; ; slot = (slot + 1) & mask) {
      const at = table[slot];
      if (at === 0) {
        table[slot] = count + 1;
        refs[count] = { entity, key: id };
        out[i] = count++;
        break;
      }
      // Slots hold refs of this entity type only (the table is cleared per type).
      if (refs[at - 1].key === id) {
        out[i] = at - 1;
        break;
      }
    }
  }
  return count;
}

/** The entities one rank request reads: the user, each distinct ad, campaign and user×category. */
export function entityRefs(request: RankRequestLike): RequestEntities {
  const n = request.candidates.length;
  const c = request.candidates;
  // Sized for the worst case (every id distinct) and cut to length at the end: no regrowth.
  const refs = new Array<EntityRef>(1 + 3 * n);
  refs[0] = { entity: 'user', key: request.userId };
  let count = 1;
  // One buffer for the six per-candidate arrays.
  const all = new Int32Array(6 * n);
  const ad = all.subarray(0, n);
  const campaign = all.subarray(n, 2 * n);
  const userCategory = all.subarray(2 * n, 3 * n);
  const adCode = all.subarray(3 * n, 4 * n);
  const campaignCode = all.subarray(4 * n, 5 * n);
  const categoryCode = all.subarray(5 * n, 6 * n);
  for (let i = 0; i < n; i++) {
    adCode[i] = hashCategory(c[i].adId);
    campaignCode[i] = hashCategory(c[i].campaignId);
    categoryCode[i] = hashCategory(c[i].category);
  }
  let size = 1024;
  while (size < 2 * n) size *= 2;
  if (table.length < size) table = new Int32Array(size);
  const mask = size - 1;
  // One pass per entity type keeps the refs grouped by type, as RequestEntities documents.
  count = dedupIds(refs, count, 'ad', (i) => c[i].adId, adCode, ad, mask);
  count = dedupIds(refs, count, 'campaign', (i) => c[i].campaignId, campaignCode, campaign, mask);
  // The user is the same for every candidate: user×category refs are distinct categories.
  table.fill(0, 0, size);
  for (let i = 0; i < n; i++) {
    const category = c[i].category;
    for (let slot = categoryCode[i] & mask; ; slot = (slot + 1) & mask) {
      const at = table[slot];
      if (at === 0) {
        // The slot keeps the candidate that added the category (+ 1); its ref is the next one.
        table[slot] = i + 1;
        refs[count] = { entity: 'user_category', key: userCategoryKey(request.userId, category) };
        userCategory[i] = count++;
        break;
      }
      if (c[at - 1].category === category) {
        userCategory[i] = userCategory[at - 1];
        break;
      }
    }
  }
  refs.length = count;
  return { refs, user: 0, ad, campaign, userCategory, adCode, campaignCode, categoryCode };
}

/**
 * The aggregate values of `refs` as one float32 slab, the form `OnlineStore.getPacked` reads into:
 * ref r's values in its entity's layout order (ENTITY_LAYOUTS) at `r * LAYOUT_WIDTH`, NaN where the
 * store has no value. `vectors` null (the store failed) gives all NaN.
 */
export function packVectors(refs: readonly EntityRef[], vectors: readonly (FeatureVector | null)[] | null, out: Float32Array): void {
  out.fill(NaN, 0, refs.length * LAYOUT_WIDTH);
  if (vectors === null) return;
  for (let r = 0; r < refs.length; r++) {
    const v = vectors[r];
    if (v === null) continue;
    const names = ENTITY_LAYOUTS[refs[r].entity as EntityType];
    for (let j = 0; j < LAYOUT_WIDTH; j++) {
      const x = v[names[j]];
      if (x !== undefined) out[r * LAYOUT_WIDTH + j] = x;
    }
  }
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
  /** `write`'s packing of record vectors. */
  private packed = new Float32Array(0);
  /** The returned batch's column views, kept while requests have the same number of candidates. */
  private views: (Int32Array | Float32Array)[] = [];
  private viewsOf: (Int32Array | Float32Array)[] | null = null;
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

  /** `writePacked` from what `OnlineStore.get(entities.refs)` returned (null = the store failed). */
  write(request: RankRequestLike, entities: RequestEntities, vectors: readonly (FeatureVector | null)[] | null): RawBatch {
    if (vectors === null) return this.writePacked(request, entities, null);
    const need = entities.refs.length * LAYOUT_WIDTH;
    if (this.packed.length < need) this.packed = new Float32Array(need * 2);
    packVectors(entities.refs, vectors, this.packed);
    return this.writePacked(request, entities, this.packed);
  }

  /**
   * The batch of a request from its refs' values packed as `packVectors` lays them out (NaN = no
   * value: the entity's default), or null when the store failed (every aggregate is the default).
   */
  writePacked(request: RankRequestLike, entities: RequestEntities, packed: Float32Array | null): RawBatch {
    const n = request.candidates.length;
    if (n > this.capacity) {
      this.capacity = Math.max(n, this.capacity * 2);
      this.columns = this.allocate(this.capacity);
    }
    this.fillSlab(entities, packed);
    const cols = this.columns;
    const user = hashCategory(request.userId);
    const hour = hashCategory(String(request.context.hour));
    const device = hashCategory(request.context.device);
    const site = hashCategory(request.context.site);
    cols[COL.user_id].fill(user, 0, n);
    cols[COL.ctx_hour].fill(hour, 0, n);
    cols[COL.ctx_device].fill(device, 0, n);
    cols[COL.ctx_site].fill(site, 0, n);
    cols[COL.ad_id].set(entities.adCode);
    cols[COL.campaign_id].set(entities.campaignCode);
    cols[COL.ad_category].set(entities.categoryCode);
    // Entity order here is ENTITY_TYPES order, which is the schema's aggregate column order; the
    // user's columns are one value for every row.
    const slab = this.slab;
    const userBase = entities.user * LAYOUT_WIDTH;
    for (let j = 0; j < LAYOUT_WIDTH; j++) cols[FIRST_AGGREGATE_COLUMN + j].fill(slab[userBase + j], 0, n);
    this.copyRefs(cols, FIRST_AGGREGATE_COLUMN + LAYOUT_WIDTH, entities.ad, n);
    this.copyRefs(cols, FIRST_AGGREGATE_COLUMN + 2 * LAYOUT_WIDTH, entities.campaign, n);
    this.copyRefs(cols, FIRST_AGGREGATE_COLUMN + 3 * LAYOUT_WIDTH, entities.userCategory, n);
    if (this.viewsOf !== cols || this.views[0].length !== n) {
      this.views = cols.map((c) => c.subarray(0, n));
      this.viewsOf = cols;
    }
    return { n, schema: this.schema, columns: this.views };
  }

  /** Column by column: each of an entity's LAYOUT_WIDTH columns gets its ref's value for every row. */
  private copyRefs(cols: (Int32Array | Float32Array)[], first: number, refOf: Int32Array, n: number): void {
    const slab = this.slab;
    for (let j = 0; j < LAYOUT_WIDTH; j++) {
      const col = cols[first + j];
      for (let i = 0; i < n; i++) col[i] = slab[refOf[i] * LAYOUT_WIDTH + j];
    }
  }

  /** Each distinct ref's values once (not once per candidate); no value → the entity's default. */
  private fillSlab(entities: RequestEntities, packed: Float32Array | null): void {
    const refs = entities.refs;
    if (this.slab.length < refs.length * LAYOUT_WIDTH) this.slab = new Float32Array(refs.length * LAYOUT_WIDTH * 2);
    const slab = this.slab;
    for (let r = 0; r < refs.length; r++) {
      const d = ENTITY_TYPES.indexOf(refs[r].entity as EntityType) * LAYOUT_WIDTH;
      const at = r * LAYOUT_WIDTH;
      for (let j = 0; j < LAYOUT_WIDTH; j++) {
        const x = packed === null ? NaN : packed[at + j];
        slab[at + j] = x === x ? x : this.defaults[d + j];
      }
    }
  }

  private allocate(cap: number): (Int32Array | Float32Array)[] {
    return this.schema.fields.map((f) => (f.kind === 'numeric' ? new Float32Array(cap) : new Int32Array(cap)));
  }
}
