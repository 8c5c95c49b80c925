/**
 * registry: the model registry. It owns registered models and their numbered, immutable versions
 * (params, metrics, training data range, lineage), the `champion`/`challenger`-style aliases that
 * serving follows (moved atomically, compare-and-set, with history and rollback), watches that
 * report alias moves within a second, and the content-addressed artifact store whose files are
 * checksum-verified on every load. `createRegistry` picks the backend by URL: `sqlite:FILE`
 * (embedded) or `postgres://…?schema=NAME` (shared by many processes).
 */
import { PctrError, createLogger, urlScheme, type Logger } from '../core/index.ts';
import { ArtifactStore } from './artifact-store.ts';
import { openPostgresDriver, parsePostgresUrl, type PostgresRegistryConfig } from './postgres.ts';
import type { AliasChangeHook, Registry } from './registry.ts';
import { SqlRegistry } from './sql-registry.ts';
import { openSqliteDriver, parseSqliteUrl, type SqliteRegistryConfig } from './sqlite.ts';

export type * from './registry.ts';
export type { PostgresRegistryConfig } from './postgres.ts';
export type { SqliteRegistryConfig } from './sqlite.ts';
export { parseModelRef } from './validate.ts';
export { sha256Hex } from './artifact-store.ts';

export type RegistryBackendConfig = SqliteRegistryConfig | PostgresRegistryConfig;

export interface RegistryConfig {
  /** `sqlite:FILE` or `postgres://user@host:port/db?schema=NAME` (config `registry.url`). */
  readonly url: string;
  /** Artifact directory (config `registry.artifacts`); shared storage when several hosts register. */
  readonly artifacts: string;
  /** Called after each alias move this instance commits (promotion, rollback, delete). */
  readonly onAliasChange?: AliasChangeHook;
  readonly logger?: Logger;
  /** Watch poll period when no change feed is connected (default 250 ms). */
  readonly pollMs?: number;
}

export function parseRegistryUrl(url: string): RegistryBackendConfig {
  switch (urlScheme(url)) {
    case 'sqlite':
      return parseSqliteUrl(url);
    case 'postgres':
    case 'postgresql':
      return parsePostgresUrl(url);
    default:
      throw new PctrError('PCTR_CONFIG_INVALID', `registry URL "${url}" has an unknown scheme: use sqlite:FILE or postgres://user@host:port/db`);
  }
}

export async function createRegistry(cfg: RegistryConfig): Promise<Registry> {
  const backend = parseRegistryUrl(cfg.url);
  if (cfg.pollMs !== undefined && !(Number.isFinite(cfg.pollMs) && cfg.pollMs >= 10)) {
    throw new PctrError('PCTR_CONFIG_INVALID', `registry pollMs must be a number ≥ 10 (got ${cfg.pollMs})`);
  }
  const logger = cfg.logger ?? createLogger({ name: 'registry' });
  const common = {
    artifacts: new ArtifactStore(cfg.artifacts),
    logger,
    onAliasChange: cfg.onAliasChange,
    pollMs: cfg.pollMs ?? 250,
    feedPollMs: 5_000,
  };
  switch (backend.type) {
    case 'sqlite':
      return new SqlRegistry({ ...common, driver: openSqliteDriver(backend) });
    case 'postgres': {
      const { driver, feed } = await openPostgresDriver(backend, logger);
      return new SqlRegistry({ ...common, driver, feed });
    }
  }
}
