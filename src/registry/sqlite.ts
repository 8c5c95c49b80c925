/**
 * The embedded registry backend: one SQLite file (better-sqlite3, WAL, busy timeout). Write work
 * runs in `BEGIN IMMEDIATE`, which takes the database write lock up front, so version allocation
 * and alias compare-and-set are serialized across every process sharing the file. Watchers poll.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { PctrError, isPctrError, urlPath, urlScheme } from '../core/index.ts';
import { migrate } from './schema.ts';
import { driveSync, type Query, type Row, type SqlDriver, type SqlWork } from './sql-driver.ts';

export interface SqliteRegistryConfig {
  readonly type: 'sqlite';
  readonly file: string;
  /** How long a writer waits for another process's write transaction before giving up. */
  readonly busyTimeoutMs: number;
}

/** `sqlite:FILE` (relative or absolute; `sqlite://` also accepted). */
export function parseSqliteUrl(url: string): SqliteRegistryConfig {
  const file = urlPath(url);
  if (urlScheme(url) !== 'sqlite' || file === '' || file === ':memory:') {
    throw new PctrError('PCTR_CONFIG_INVALID', `registry URL "${url}" is not sqlite:FILE (an in-memory database cannot be shared by watchers and other processes)`);
  }
  return { type: 'sqlite', file: resolve(file), busyTimeoutMs: 10_000 };
}

export function openSqliteDriver(cfg: SqliteRegistryConfig): SqlDriver {
  const location = `sqlite:${cfg.file}`;
  let db: Database.Database;
  try {
    mkdirSync(dirname(cfg.file), { recursive: true });
    db = new Database(cfg.file, { timeout: cfg.busyTimeoutMs });
    db.pragma('journal_mode = WAL');
    // A promotion that was acknowledged must survive a power cut; registry writes are rare.
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
  } catch (e) {
    throw new PctrError('PCTR_BACKEND_UNAVAILABLE', `cannot open registry ${location}: ${(e as Error).message}`, { cause: e });
  }
  const statements = new Map<string, Database.Statement>();
  const exec = (q: Query): Row[] => {
    let stmt = statements.get(q.sql);
    if (stmt === undefined) {
      stmt = db.prepare(q.sql);
      statements.set(q.sql, stmt);
    }
    const params = q.params.map((p) => (p === undefined ? null : p));
    if (stmt.reader) return stmt.all(...params) as Row[];
    stmt.run(...params);
    return [];
  };
  const inTransaction = db.transaction(<T>(work: () => SqlWork<T>): T => driveSync(work(), exec));
  const run = <T>(mode: 'deferred' | 'immediate', work: () => SqlWork<T>): Promise<T> => {
    try {
      return Promise.resolve(inTransaction[mode](work) as T);
    } catch (e) {
      return Promise.reject(translate(e, location, cfg.busyTimeoutMs));
    }
  };
  const driver: SqlDriver = {
    dialect: 'sqlite',
    location,
    forUpdate: '',
    read: (work) => run('deferred', work),
    write: (work) => run('immediate', work),
    notifyQuery: () => null,
    close: async () => {
      if (db.open) db.close();
    },
  };
  try {
    inTransaction.immediate(() => migrate('sqlite', location));
  } catch (e) {
    db.close();
    throw translate(e, location, cfg.busyTimeoutMs);
  }
  return driver;
}

function translate(e: unknown, location: string, busyTimeoutMs: number): unknown {
  if (isPctrError(e)) return e;
  const code = (e as { code?: string }).code ?? '';
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
    return new PctrError('PCTR_BACKEND_UNAVAILABLE', `registry ${location} stayed locked by another writer for more than ${busyTimeoutMs} ms`, { cause: e });
  }
  if (e instanceof TypeError && /not open/.test(e.message)) {
    return new PctrError('PCTR_BACKEND_UNAVAILABLE', `registry ${location} is closed`, { cause: e });
  }
  return new PctrError('PCTR_INTERNAL', `registry ${location}: ${(e as Error).message ?? String(e)} (${code || 'no code'})`, { cause: e });
}
