/**
 * What the SQL registry needs from a database, so one body of SQL serves SQLite and PostgreSQL.
 *
 * Work is written once as a generator that yields queries and receives their rows. SQLite runs it
 * synchronously inside one `BEGIN IMMEDIATE` transaction (better-sqlite3 is synchronous, so no other
 * code can interleave with the transaction and no in-process lock is needed); PostgreSQL drives the
 * same generator with awaits on one pooled connection. Queries use `?` placeholders; the Postgres
 * driver rewrites them to `$n`.
 */
export type Row = Record<string, unknown>;

export interface Query {
  readonly sql: string;
  readonly params: readonly unknown[];
}

/** A unit of database work: yields queries, receives each one's rows, returns its result. */
export type SqlWork<T> = Generator<Query, T, Row[]>;

/** `const rows = yield* sql('SELECT … WHERE name = ?', name)` inside SqlWork. */
export function* sql(text: string, ...params: unknown[]): Generator<Query, Row[], Row[]> {
  return yield { sql: text, params };
}

export type Dialect = 'sqlite' | 'postgres';

export interface SqlDriver {
  readonly dialect: Dialect;
  /** Where the registry lives, for messages (`sqlite:/path`, `postgres://host/db?schema=s`); no secrets. */
  readonly location: string;
  /**
   * Suffix for the SELECT of a registered model row in write work: a row lock in PostgreSQL;
   * empty in SQLite, whose write transactions already hold the database write lock.
   */
  readonly forUpdate: string;
  /** Run work in one read-only transaction (a consistent snapshot). */
  read<T>(work: () => SqlWork<T>): Promise<T>;
  /** Run work in one write transaction; it rolls back when the work throws. */
  write<T>(work: () => SqlWork<T>): Promise<T>;
  /** A query that, inside write work, tells watchers about an alias move when the transaction commits; null where watchers poll. */
  notifyQuery(name: string, alias: string): Query | null;
  close(): Promise<void>;
}

/**
 * Push notifications of alias moves from other processes (PostgreSQL LISTEN). Watchers fall back
 * to polling whenever the feed is disconnected.
 */
export interface ChangeFeed {
  start(handlers: { onChange: (name: string, alias: string) => void; onConnected: (connected: boolean) => void }): void;
  close(): Promise<void>;
}

/** Drive work to completion, feeding each query's rows back in; errors are thrown into the work. */
export function driveSync<T>(work: SqlWork<T>, exec: (q: Query) => Row[]): T {
  let step = work.next();
  while (!step.done) {
    let rows: Row[];
    try {
      rows = exec(step.value);
    } catch (e) {
      step = work.throw(e);
      continue;
    }
    step = work.next(rows);
  }
  return step.value;
}

export async function driveAsync<T>(work: SqlWork<T>, exec: (q: Query) => Promise<Row[]>): Promise<T> {
  let step = work.next();
  while (!step.done) {
    let rows: Row[];
    try {
      rows = await exec(step.value);
    } catch (e) {
      step = work.throw(e);
      continue;
    }
    step = work.next(rows);
  }
  return step.value;
}
