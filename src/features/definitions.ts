/**
 * Feature definitions: the served feature set and how each aggregate feature is computed.
 *
 * Served features = the request-level features of core/served-features.ts (categoricals the ranker
 * reads straight off the request) + aggregate features of four entity types (user, ad, campaign,
 * user×category), each with impressions, clicks and smoothed CTR over a 1 h and a 24 h window.
 * An entity's aggregates are one fixed-order vector (its layout), which is also how the online store
 * packs them. A cold entity (no impression in 24 h, or the store is down) gets the prior.
 */
import { REQUEST_FEATURES, type FeatureSchema, type FieldDef } from '../core/index.ts';

export const ENTITY_TYPES = ['user', 'ad', 'campaign', 'user_category'] as const;
export type EntityType = (typeof ENTITY_TYPES)[number];

/** A sliding window made of `spanMs / bucketMs` event-time buckets. */
export interface WindowSpec {
  readonly name: string;
  readonly spanMs: number;
  readonly bucketMs: number;
}

/** 5-min buckets for the 1 h window (at most 5 min stale), 1-h buckets for the 24 h one. */
export const WINDOWS: readonly WindowSpec[] = [
  { name: '1h', spanMs: 3_600_000, bucketMs: 300_000 },
  { name: '24h', spanMs: 86_400_000, bucketMs: 3_600_000 },
];

/** Per window, in this order: impressions, clicks, smoothed CTR. */
export const WINDOW_STATS = ['imps', 'clicks', 'ctr'] as const;

/**
 * Beta prior of the smoothed CTR: `(clicks + weight·ctr) / (imps + weight)`. `weight` is the number
 * of pseudo-impressions, so an ad needs about that many real ones before its own rate dominates.
 */
export interface CtrPrior {
  readonly ctr: number;
  readonly weight: number;
}

export const DEFAULT_CTR_PRIOR: CtrPrior = { ctr: 0.03, weight: 100 };

export function smoothedCtr(clicks: number, imps: number, prior: CtrPrior = DEFAULT_CTR_PRIOR): number {
  return (clicks + prior.weight * prior.ctr) / (imps + prior.weight);
}

/** Feature names of one entity type's aggregate vector, e.g. `ad_imps_1h, ad_clicks_1h, ad_ctr_1h, ad_imps_24h, …`. */
export function entityLayout(entity: string, windows: readonly WindowSpec[] = WINDOWS): string[] {
  const names: string[] = [];
  for (const w of windows) for (const stat of WINDOW_STATS) names.push(`${entity}_${stat}_${w.name}`);
  return names;
}

/** The packed layout of every entity type: the online store stores values in exactly this order. */
export const ENTITY_LAYOUTS: Readonly<Record<EntityType, readonly string[]>> = Object.freeze(
  Object.fromEntries(ENTITY_TYPES.map((e) => [e, Object.freeze(entityLayout(e))])) as Record<EntityType, readonly string[]>,
);

/** Values per entity vector (the same for every entity type). */
export const LAYOUT_WIDTH = WINDOWS.length * WINDOW_STATS.length;

/**
 * Fill one entity's aggregate vector from its window counts. `counts[2w]` / `counts[2w+1]` are the
 * impressions / clicks of window w (starting at `offset`); `out` receives layout order from `outOffset`.
 */
export function fillAggregateVector(
  counts: ArrayLike<number>,
  offset: number,
  prior: CtrPrior,
  out: { [i: number]: number },
  outOffset = 0,
  windows = WINDOWS.length,
): void {
  for (let w = 0; w < windows; w++) {
    const imps = counts[offset + 2 * w];
    const clicks = counts[offset + 2 * w + 1];
    out[outOffset + 3 * w] = imps;
    out[outOffset + 3 * w + 1] = clicks;
    out[outOffset + 3 * w + 2] = smoothedCtr(clicks, imps, prior);
  }
}

/** Aggregate features of a cold entity: zero counts, CTR = the prior. Used when the store has nothing or is down. */
export function defaultFeatures(entity: EntityType, prior: CtrPrior = DEFAULT_CTR_PRIOR): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of ENTITY_LAYOUTS[entity]) out[name] = name.includes('_ctr_') ? prior.ctr : 0;
  return out;
}

const SERVED_SCHEMA: FeatureSchema = Object.freeze({
  fields: Object.freeze([
    ...REQUEST_FEATURES,
    ...ENTITY_TYPES.flatMap((e) => ENTITY_LAYOUTS[e].map((name): FieldDef => ({ name, kind: 'numeric' }))),
  ]),
});

/** Every feature the ranker serves (and logs with the impression), in a fixed order: request-level, then aggregates by entity. */
export function servedFeatureSchema(): FeatureSchema {
  return SERVED_SCHEMA;
}

/** Kind of a served feature by name (undefined for names outside the served set). */
export function servedFeatureKind(name: string): FieldDef['kind'] | undefined {
  return SERVED_KINDS.get(name);
}

const SERVED_KINDS = new Map(SERVED_SCHEMA.fields.map((f) => [f.name, f.kind]));

/** Key of the user×category entity. */
export function userCategoryKey(userId: string, category: string): string {
  return `${userId}|${category}`;
}
