/**
 * The embedded run store: one SQLite file (better-sqlite3, WAL, busy timeout), so `pctr train runs`
 * can read it while `pctr start` writes. Statements run synchronously; each is atomic on its own.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { PctrError, errorMessage, urlPath, urlScheme } from '../../core/index.ts';
import { SCHEMA_STATEMENTS, type Row, type SqlExec } from './sql-run-store.ts';

export interface SqliteRunStoreConfig {
  readonly type: 'sqlite';
  readonly file: string;
  readonly busyTimeoutMs: number;
}

/** `sqlite:FILE` (relative or absolute). */
export function parseSqliteRunStoreUrl(url: string): SqliteRunStoreConfig {
  const file = urlPath(url);
  if (urlScheme(url) !== 'sqlite' || file === '' || file === ':memory:') {
    throw new PctrError('PCTR_CONFIG_INVALID', `run store URL "${url}" is not sqlite:FILE`);
  }
  return { type: 'sqlite', file: resolve(file), busyTimeoutMs: 10_000 };
}

export function openSqliteRunStore(cfg: SqliteRunStoreConfig): SqlExec {
  const location = `sqlite:${cfg.file}`;
  let db: Database.Database;
  try {
    mkdirSync(dirname(cfg.file), { recursive: true });
    db = new Database(cfg.file, { timeout: cfg.busyTimeoutMs });
    db.pragma('journal_mode = WAL');
    db.transaction(() => {
      for (const s of SCHEMA_STATEMENTS) db.exec(s);
    }).immediate();
  } catch (e) {
    throw new PctrError('PCTR_BACKEND_UNAVAILABLE', `cannot open run store ${location}: ${errorMessage(e)}`, { cause: e });
  }
  const statements = new Map<string, Database.Statement>();
  return {
    location,
    query: async (sql: string, params: readonly unknown[]): Promise<Row[]> => {
      try {
        let stmt = statements.get(sql);
        if (stmt === undefined) {
          stmt = db.prepare(sql);
          statements.set(sql, stmt);
        }
        return stmt.reader ? (stmt.all(...params) as Row[]) : (stmt.run(...params), []);
      } catch (e) {
        const code = (e as { code?: string }).code ?? '';
        if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED' || !db.open) {
          throw new PctrError('PCTR_BACKEND_UNAVAILABLE', `run store ${location} is ${db.open ? 'locked by another writer' : 'closed'}`, { cause: e });
        }
        throw new PctrError('PCTR_INTERNAL', `run store ${location}: ${errorMessage(e)}`, { cause: e });
      }
    },
    close: async () => {
      if (db.open) db.close();
    },
  };
}
