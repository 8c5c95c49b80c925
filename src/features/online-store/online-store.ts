/**
 * The online feature store contract: the latest aggregate features of entities (user, ad, campaign,
 * user×category), read on the ranking path in one round trip for all of a request's entities.
 *
 * Promises: `get` returns one entry per ref, in order, null when the entity is unknown; a `put`
 * replaces an entity's whole feature vector (last writer wins by `ts`). Reads are batched: one
 * network round trip per `get` on remote backends. Leaves out: history (that is the offline store).
 */
export type FeatureVector = Readonly<Record<string, number>>;

export interface EntityRef {
  /** Entity type: `user`, `ad`, `campaign`, `user_category`. */
  readonly entity: string;
  readonly key: string;
}

export interface OnlineStore {
  get(refs: readonly EntityRef[]): Promise<(FeatureVector | null)[]>;
  put(rows: readonly { readonly ref: EntityRef; readonly values: FeatureVector; readonly ts: number }[]): Promise<void>;
  close(): Promise<void>;
}
