/**
 * The online feature store contract: the latest aggregate features of entities (user, ad, campaign,
 * user×category), read on the ranking path in one round trip for all of a request's entities.
 *
 * Promises: `get` returns one entry per ref, in order, null when the entity is unknown (or expired);
 * a `put` replaces an entity's whole feature vector (the latest `put` wins; `ts` is the event time of
 * the values, stored beside them). Reads are batched: one network round trip per `get` on remote
 * backends. Each entity type has a fixed layout of feature names (features/definitions.ts): a `put`
 * naming a feature outside it, or a ref of an unknown entity type, fails with PCTR_VALIDATION; a
 * layout name left out of a `put` is absent from the vector read back. Values are float32.
 * Failures: a remote store that is unreachable or slower than its read timeout fails the call with
 * PCTR_BACKEND_UNAVAILABLE or PCTR_TIMEOUT (never a hang), so the ranker can fall back to defaults.
 * Leaves out: history (that is the offline store), conditional or partial updates, deletes (vectors
 * expire by TTL).
 */
export type FeatureVector = Readonly<Record<string, number>>;

export interface EntityRef {
  /** Entity type: `user`, `ad`, `campaign`, `user_category`. */
  readonly entity: string;
  readonly key: string;
}

/** One entity's new feature vector, with the event time it describes. */
export interface FeatureRow {
  readonly ref: EntityRef;
  readonly values: FeatureVector;
  readonly ts: number;
}

export interface OnlineStore {
  get(refs: readonly EntityRef[]): Promise<(FeatureVector | null)[]>;
  put(rows: readonly FeatureRow[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * A capability of stores that keep vectors packed (both backends): `getPacked` is `get` without a
 * record per entity, for the ranking path (a request reads ~250 entities). It writes ref i's values
 * in its entity's layout order (`layoutOf`) to `out[i * stride …]`, NaN where `get` would have no
 * value (unknown or expired entity, or a name left out of its put), and resolves with the number of
 * unknown or expired refs. `out` must hold `refs.length * stride` floats; stride ≥ every layout's
 * width. Same failures as `get`; on failure `out` may be partly written.
 */
export interface PackedReader {
  getPacked(refs: readonly EntityRef[], out: Float32Array, stride: number): Promise<number>;
  /** The feature names of an entity type, in the order `getPacked` writes them. */
  layoutOf(entity: string): readonly string[];
}

export function canReadPacked(store: OnlineStore): store is OnlineStore & PackedReader {
  const s = store as Partial<PackedReader>;
  return typeof s.getPacked === 'function' && typeof s.layoutOf === 'function';
}
