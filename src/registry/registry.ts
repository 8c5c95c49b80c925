/**
 * The model registry contract (MLflow's model: registered models, numbered versions, aliases).
 * Backends: `sqlite` (embedded) and `postgres`; artifacts live in a content-addressed directory
 * store beside them, verified by checksum on every load.
 *
 * Promises: version numbers per model start at 1 and increase without gaps; `setAlias` is atomic
 * (a reader sees the old or the new version, never none) and recorded in the alias history;
 * `register` is idempotent per `idempotencyKey`, so a retried pipeline step registers once.
 */
export interface VersionMeta {
  readonly kind: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly metrics: Readonly<Record<string, number>>;
  /** Event-time range of the training data, epoch ms. */
  readonly dataRange?: { readonly from: number; readonly to: number; readonly rows: number };
  readonly parentVersion?: number;
  readonly codeVersion?: string;
  /** Training run that made it (pipeline run id), for lineage. */
  readonly runId?: string;
  readonly description?: string;
  /** Registering twice with the same key returns the first version instead of a new one. */
  readonly idempotencyKey?: string;
}

export interface ModelVersion extends VersionMeta {
  readonly name: string;
  readonly version: number;
  /** sha256 of the artifact bytes. */
  readonly digest: string;
  readonly sizeBytes: number;
  readonly createdAt: string;
  readonly aliases: readonly string[];
}

export interface AliasEvent {
  readonly name: string;
  readonly alias: string;
  readonly fromVersion: number | null;
  readonly toVersion: number | null;
  readonly reason: string;
  readonly at: string;
}

/** `3`, `@champion`. */
export type VersionRef = number | `@${string}`;

export type Unsubscribe = () => void;

export interface Registry {
  register(name: string, artifact: Uint8Array, meta: VersionMeta): Promise<ModelVersion>;
  get(name: string, ref: VersionRef): Promise<ModelVersion>;
  /** Artifact bytes of a version, checksum verified (PCTR_ARTIFACT_CORRUPT otherwise). */
  loadArtifact(v: ModelVersion): Promise<Uint8Array>;
  list(name: string): Promise<ModelVersion[]>;
  models(): Promise<string[]>;
  /** Move an alias atomically. `expectedVersion` (compare-and-set) guards against racing promoters. */
  setAlias(name: string, alias: string, version: number, opts?: { reason?: string; expectedVersion?: number | null }): Promise<void>;
  deleteAlias(name: string, alias: string, reason?: string): Promise<void>;
  aliasHistory(name: string, alias?: string): Promise<AliasEvent[]>;
  /** Calls `onChange` (within ~1 s) whenever the alias points to another version. */
  watch(name: string, alias: string, onChange: (v: ModelVersion) => void): Unsubscribe;
  close(): Promise<void>;
}
