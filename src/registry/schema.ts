/**
 * The registry's tables, one definition for both dialects (they differ only in the history id
 * column), created at open. `registry_meta.schema_version` lets a later release migrate; a
 * database written by a newer release is refused rather than misread.
 */
import { PctrError } from '../core/index.ts';
import { sql, type Dialect, type SqlWork } from './sql-driver.ts';

export const SCHEMA_VERSION = 1;

function ddl(dialect: Dialect): string[] {
  const serialId = dialect === 'postgres' ? 'BIGSERIAL PRIMARY KEY' : 'INTEGER PRIMARY KEY AUTOINCREMENT';
  return [
    `CREATE TABLE IF NOT EXISTS registry_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS registered_models (
      name TEXT PRIMARY KEY,
      last_version INTEGER NOT NULL DEFAULT 0,
      created_at TEXT NOT NULL
    )`,
    `CREATE TABLE IF NOT EXISTS model_versions (
      name TEXT NOT NULL REFERENCES registered_models (name),
      version INTEGER NOT NULL,
      kind TEXT NOT NULL,
      params TEXT NOT NULL,
      metrics TEXT NOT NULL,
      data_from BIGINT,
      data_to BIGINT,
      data_rows BIGINT,
      parent_version INTEGER,
      code_version TEXT,
      run_id TEXT,
      description TEXT,
      idempotency_key TEXT,
      digest TEXT NOT NULL,
      size_bytes BIGINT NOT NULL,
      created_at TEXT NOT NULL,
      PRIMARY KEY (name, version),
      UNIQUE (name, idempotency_key)
    )`,
    `CREATE TABLE IF NOT EXISTS aliases (
      name TEXT NOT NULL,
      alias TEXT NOT NULL,
      version INTEGER NOT NULL,
      updated_at TEXT NOT NULL,
      PRIMARY KEY (name, alias),
      FOREIGN KEY (name, version) REFERENCES model_versions (name, version)
    )`,
    `CREATE TABLE IF NOT EXISTS alias_history (
      id ${serialId},
      name TEXT NOT NULL,
      alias TEXT NOT NULL,
      action TEXT NOT NULL,
      from_version INTEGER,
      to_version INTEGER,
      reason TEXT NOT NULL,
      at TEXT NOT NULL
    )`,
    `CREATE INDEX IF NOT EXISTS alias_history_by_alias ON alias_history (name, alias, id)`,
  ];
}

/**
 * Create the tables (and the PostgreSQL schema) if needed and check the schema version, in one
 * write transaction.
 */
export function* migrate(dialect: Dialect, location: string, pgSchema?: string): SqlWork<void> {
  if (dialect === 'postgres' && pgSchema !== undefined) {
    // Concurrent CREATE … IF NOT EXISTS can still collide in PostgreSQL's catalogs: serialize openers.
    yield* sql(`SELECT pg_advisory_xact_lock(hashtext(?))`, `pctr-registry:${pgSchema}`);
    yield* sql(`CREATE SCHEMA IF NOT EXISTS "${pgSchema}"`);
  }
  for (const statement of ddl(dialect)) yield* sql(statement);
  const rows = yield* sql(`SELECT value FROM registry_meta WHERE key = 'schema_version'`);
  if (rows.length === 0) {
    yield* sql(`INSERT INTO registry_meta (key, value) VALUES ('schema_version', ?)`, String(SCHEMA_VERSION));
    return;
  }
  const found = Number(rows[0].value);
  if (found > SCHEMA_VERSION) {
    throw new PctrError('PCTR_CONFIG_INVALID', `registry ${location} has schema version ${found}, newer than this pctr understands (${SCHEMA_VERSION}); upgrade pctr`);
  }
}
