/**
 * The model registry contract (MLflow's model: registered models, numbered versions, aliases).
 * Backends: `sqlite` (embedded) and `postgres`; artifacts live in a content-addressed directory
 * store beside them, verified by checksum on every load.
 *
 * Promises: version numbers per model start at 1 and increase without gaps, also under concurrent
 * registrations from several processes; versions are immutable and never deleted. `setAlias` is
 * atomic (a reader sees the old or the new version, never none) and commits together with its
 * alias-history row; with `expectedVersion` it is compare-and-set. `register` is idempotent per
 * `idempotencyKey`, so a retried pipeline step registers once. A version row exists only once its
 * artifact is durably stored and verified, and `loadArtifact` never returns bytes whose checksum
 * differs from the registered digest.
 *
 * Leaves out: deleting versions or models, stages (aliases replace them, as in MLflow 2.9+), and
 * the artifact format itself (bytes here; `models/` owns what they mean).
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
  /**
   * Registering twice with the same key returns the first version instead of a new one (the
   * first registration wins, even if a retry brings different bytes).
   */
  readonly idempotencyKey?: string;
}

export interface RegisterOptions {
  /** sha256 (hex) the producer computed; a mismatch with the bytes is refused (PCTR_ARTIFACT_CORRUPT). */
  readonly expectedDigest?: string;
}

export interface ModelVersion extends VersionMeta {
  readonly name: string;
  readonly version: number;
  /** sha256 of the artifact bytes, hex. */
  readonly digest: string;
  readonly sizeBytes: number;
  readonly createdAt: string;
  readonly aliases: readonly string[];
}

/** `rollback` moves an alias back along its history; `delete` removes it. */
export type AliasAction = 'set' | 'rollback' | 'delete';

export interface AliasEvent {
  readonly name: string;
  readonly alias: string;
  readonly action: AliasAction;
  readonly fromVersion: number | null;
  readonly toVersion: number | null;
  readonly reason: string;
  readonly at: string;
}

/**
 * Called in the process that moved an alias, after the move committed (the place for the
 * monitoring webhook). Awaited; a failure is logged and does not undo or fail the move.
 */
export type AliasChangeHook = (event: AliasEvent) => void | Promise<void>;

/** `3`, `@champion`; `@latest` is the highest version (and cannot be set as an alias). */
export type VersionRef = number | `@${string}`;

export type Unsubscribe = () => void;

export interface WatchOptions {
  /**
   * The version the caller already serves. Without it the version current at subscription is
   * delivered first, so a get-then-watch race cannot lose an update.
   */
  readonly known?: number | null;
}

export interface Registry {
  register(name: string, artifact: Uint8Array, meta: VersionMeta, opts?: RegisterOptions): Promise<ModelVersion>;
  get(name: string, ref: VersionRef): Promise<ModelVersion>;
  /** Artifact bytes of a version, checksum verified (PCTR_ARTIFACT_CORRUPT otherwise). */
  loadArtifact(v: ModelVersion): Promise<Uint8Array>;
  /** Versions of a model, oldest first. */
  list(name: string): Promise<ModelVersion[]>;
  models(): Promise<string[]>;
  /**
   * Move an alias atomically. `expectedVersion` (compare-and-set; `null` = alias must be unset)
   * guards against racing promoters: PCTR_CONFLICT when the alias points elsewhere. Setting an
   * alias to the version it already has changes and records nothing.
   */
  setAlias(name: string, alias: string, version: number, opts?: { reason?: string; expectedVersion?: number | null }): Promise<AliasEvent>;
  /**
   * Move an alias back to the version it had before its last promotion (history is a stack:
   * repeated rollbacks walk further back). PCTR_CONFLICT when there is nothing to go back to.
   */
  rollback(name: string, alias: string, opts?: { reason?: string }): Promise<AliasEvent>;
  deleteAlias(name: string, alias: string, reason?: string): Promise<void>;
  /** Alias moves, oldest first. */
  aliasHistory(name: string, alias?: string): Promise<AliasEvent[]>;
  /**
   * Calls `onChange` (within ~1 s, also for moves made by other processes) whenever the alias
   * points to another version; never twice in a row for the same version. A deleted alias is not
   * reported (there is nothing to swap to).
   */
  watch(name: string, alias: string, onChange: (v: ModelVersion) => void, opts?: WatchOptions): Unsubscribe;
  close(): Promise<void>;
}
