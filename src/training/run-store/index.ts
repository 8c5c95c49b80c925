/**
 * The run store: pipeline run history, chosen by URL — `sqlite:FILE` (embedded) or
 * `postgres://…?schema=NAME` (distributed; by default the registry's database).
 */
import { PctrError, createLogger, urlScheme, type Logger } from '../../core/index.ts';
import { openPostgresRunStore, parsePostgresRunStoreUrl, type PostgresRunStoreConfig } from './postgres.ts';
import type { RunStore } from './run-store.ts';
import { SqlRunStore } from './sql-run-store.ts';
import { openSqliteRunStore, parseSqliteRunStoreUrl, type SqliteRunStoreConfig } from './sqlite.ts';

export type * from './run-store.ts';
export type RunStoreConfig = SqliteRunStoreConfig | PostgresRunStoreConfig;

export function parseRunStoreUrl(url: string): RunStoreConfig {
  switch (urlScheme(url)) {
    case 'sqlite':
      return parseSqliteRunStoreUrl(url);
    case 'postgres':
    case 'postgresql':
      return parsePostgresRunStoreUrl(url);
    default:
      throw new PctrError('PCTR_CONFIG_INVALID', `run store URL "${url}" has an unknown scheme: use sqlite:FILE or postgres://user@host:port/db`);
  }
}

export async function createRunStore(url: string, deps: { logger?: Logger } = {}): Promise<RunStore> {
  const cfg = parseRunStoreUrl(url);
  switch (cfg.type) {
    case 'sqlite':
      return new SqlRunStore(openSqliteRunStore(cfg));
    case 'postgres':
      return new SqlRunStore(await openPostgresRunStore(cfg, deps.logger ?? createLogger({ name: 'runs' })));
  }
}
