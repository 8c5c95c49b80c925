/**
 * The Registry over any SqlDriver: validates inputs before any I/O, stores the artifact before
 * the row that points to it (an artifact without a row is harmless garbage; a row without its
 * artifact cannot happen), runs the shared SQL work, and after an alias move commits, wakes local
 * watchers and calls the alias-change hook.
 */
import { PctrError, errorMessage, type Logger } from '../core/index.ts';
import { AliasWatcher } from './alias-watcher.ts';
import { sha256Hex, type ArtifactStore } from './artifact-store.ts';
import type { AliasChangeHook, AliasEvent, ModelVersion, Registry, RegisterOptions, Unsubscribe, VersionMeta, VersionRef, WatchOptions } from './registry.ts';
import type { ChangeFeed, SqlDriver } from './sql-driver.ts';
import { aliasVersionWork, getWork, historyWork, idempotentWork, listWork, modelsWork, moveAliasWork, registerWork, type AliasMove } from './sql-work.ts';
import { checkAlias, checkDigest, checkMeta, checkModelName, checkRef, checkVersion } from './validate.ts';

export interface SqlRegistryOptions {
  readonly driver: SqlDriver;
  readonly artifacts: ArtifactStore;
  /** Push notifications of alias moves (PostgreSQL); without one, watches only poll. */
  readonly feed?: ChangeFeed;
  readonly logger: Logger;
  readonly onAliasChange?: AliasChangeHook;
  /** Watch poll period without a connected change feed. */
  readonly pollMs: number;
  /** Watch poll period while the change feed is connected (a safety net only). */
  readonly feedPollMs: number;
}

export class SqlRegistry implements Registry {
  private closed = false;
  private feedStarted = false;
  private readonly watcher: AliasWatcher;

  constructor(private readonly o: SqlRegistryOptions) {
    this.watcher = new AliasWatcher(
      {
        current: (name, alias) => this.db().read(() => aliasVersionWork(name, alias)),
        load: (name, version) => this.get(name, version),
      },
      o.logger,
      o.pollMs,
    );
  }

  async register(name: string, artifact: Uint8Array, meta: VersionMeta, opts: RegisterOptions = {}): Promise<ModelVersion> {
    const model = checkModelName(name);
    const { meta: m, paramsJson } = checkMeta(meta);
    if (!(artifact instanceof Uint8Array) || artifact.length === 0) {
      throw new PctrError('PCTR_VALIDATION', `cannot register model ${JSON.stringify(model)}: the artifact is empty`, { details: { field: 'artifact' } });
    }
    if (opts.expectedDigest !== undefined) {
      const expected = checkDigest(opts.expectedDigest);
      const actual = sha256Hex(artifact);
      if (actual !== expected) {
        throw new PctrError('PCTR_ARTIFACT_CORRUPT', `refusing to register model ${JSON.stringify(model)}: artifact checksum mismatch, expected sha256 ${expected}, got ${actual} (${artifact.length} bytes)`, {
          details: { name: model, expected, actual },
        });
      }
    }
    const d = this.db();
    if (m.idempotencyKey !== undefined) {
      const existing = await d.read(() => idempotentWork(model, m.idempotencyKey!));
      if (existing !== null) return existing;
    }
    const digest = await this.o.artifacts.put(artifact);
    return d.write(() => registerWork(d, model, m, paramsJson, { digest, sizeBytes: artifact.length }, new Date().toISOString()));
  }

  async get(name: string, ref: VersionRef): Promise<ModelVersion> {
    const model = checkModelName(name);
    const r = checkRef(ref);
    return this.db().read(() => getWork(model, r));
  }

  async loadArtifact(v: ModelVersion): Promise<Uint8Array> {
    const owner = { name: checkModelName(v.name), version: checkVersion(v.version) };
    const digest = checkDigest(v.digest);
    this.db();
    return this.o.artifacts.load(digest, owner);
  }

  async list(name: string): Promise<ModelVersion[]> {
    const model = checkModelName(name);
    return this.db().read(() => listWork(model));
  }

  async models(): Promise<string[]> {
    return this.db().read(() => modelsWork());
  }

  async setAlias(name: string, alias: string, version: number, opts: { reason?: string; expectedVersion?: number | null } = {}): Promise<AliasEvent> {
    const expected = opts.expectedVersion === undefined || opts.expectedVersion === null ? opts.expectedVersion : checkVersion(opts.expectedVersion);
    return this.move(name, alias, { action: 'set', version: checkVersion(version) }, opts.reason, expected);
  }

  async rollback(name: string, alias: string, opts: { reason?: string } = {}): Promise<AliasEvent> {
    return this.move(name, alias, { action: 'rollback' }, opts.reason);
  }

  async deleteAlias(name: string, alias: string, reason?: string): Promise<void> {
    await this.move(name, alias, { action: 'delete' }, reason);
  }

  async aliasHistory(name: string, alias?: string): Promise<AliasEvent[]> {
    const model = checkModelName(name);
    const a = alias === undefined ? undefined : checkAlias(alias);
    return this.db().read(() => historyWork(model, a));
  }

  watch(name: string, alias: string, onChange: (v: ModelVersion) => void, opts: WatchOptions = {}): Unsubscribe {
    const model = checkModelName(name);
    const a = checkAlias(alias);
    const known = opts.known === undefined || opts.known === null ? null : checkVersion(opts.known);
    this.db();
    this.startFeed();
    return this.watcher.subscribe(model, a, onChange, known);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.watcher.close();
    await this.o.feed?.close();
    await this.o.driver.close();
  }

  private async move(name: string, alias: string, move: AliasMove, reason: string | undefined, expectedVersion?: number | null): Promise<AliasEvent> {
    const model = checkModelName(name);
    const a = checkAlias(alias);
    if (reason !== undefined && (typeof reason !== 'string' || reason.length > 1000)) {
      throw new PctrError('PCTR_VALIDATION', 'invalid reason: must be a string of at most 1000 characters', { details: { field: 'reason' } });
    }
    const d = this.db();
    const opts = { reason: reason ?? '', expectedVersion, now: new Date().toISOString() };
    const { event, changed } = await d.write(() => moveAliasWork(d, model, a, move, opts));
    if (changed) {
      this.watcher.poke(model, a);
      await this.announce(event);
    }
    return event;
  }

  /** The hook runs after the move committed: its failure is reported, the move stands. */
  private async announce(event: AliasEvent): Promise<void> {
    if (this.o.onAliasChange === undefined) return;
    try {
      await this.o.onAliasChange(event);
    } catch (e) {
      this.o.logger.error({ err: errorMessage(e), name: event.name, alias: event.alias, toVersion: event.toVersion }, 'registry alias-change hook failed');
    }
  }

  private startFeed(): void {
    const feed = this.o.feed;
    if (feed === undefined || this.feedStarted) return;
    this.feedStarted = true;
    feed.start({
      onChange: (name, alias) => this.watcher.poke(name, alias),
      onConnected: (connected) => {
        this.watcher.setPollInterval(connected ? this.o.feedPollMs : this.o.pollMs);
        if (connected) this.watcher.pokeAll();
      },
    });
  }

  private db(): SqlDriver {
    if (this.closed) throw new PctrError('PCTR_BACKEND_UNAVAILABLE', `registry ${this.o.driver.location} is closed`);
    return this.o.driver;
  }
}
