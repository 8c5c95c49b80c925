/**
 * The distributed registry backend: PostgreSQL through a small `pg` pool, tables in one schema
 * (`?schema=NAME`, default `public`). Write work locks the registered model row (`SELECT … FOR
 * UPDATE`), so version allocation and alias compare-and-set are serialized per model; an alias move
 * sends NOTIFY in its own transaction, delivered to listeners only if it commits.
 */
import pg from 'pg';
import { PctrError, errorMessage, hashString, isPctrError, urlScheme, type Logger } from '../core/index.ts';
import { encodeNotice, PgChangeFeed } from './pg-listener.ts';
import { migrate } from './schema.ts';
import { driveAsync, type ChangeFeed, type Query, type Row, type SqlDriver, type SqlWork } from './sql-driver.ts';

export interface PostgresRegistryConfig {
  readonly type: 'postgres';
  /** Connection string without the registry's own parameters. */
  readonly connectionString: string;
  readonly schema: string;
  /** Connections in the pool (the change feed uses one more). */
  readonly poolSize: number;
  /** The URL without password, for messages. */
  readonly location: string;
}

/** `postgres://user@host:port/db?schema=NAME&pool=N` (`postgresql://` also accepted). */
export function parsePostgresUrl(url: string): PostgresRegistryConfig {
  const scheme = urlScheme(url);
  let u: URL;
  try {
    u = new URL(url);
  } catch (e) {
    throw new PctrError('PCTR_CONFIG_INVALID', `registry URL is not a valid postgres:// URL: ${errorMessage(e)}`, { cause: e });
  }
  if (scheme !== 'postgres' && scheme !== 'postgresql') throw new PctrError('PCTR_CONFIG_INVALID', `registry URL "${url}" is not postgres://…`);
  const schema = u.searchParams.get('schema') ?? 'public';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new PctrError('PCTR_CONFIG_INVALID', `registry URL schema "${schema}" must be a lowercase identifier (letters, digits, _)`);
  }
  const pool = Number(u.searchParams.get('pool') ?? 4);
  if (!Number.isInteger(pool) || pool < 1 || pool > 100) throw new PctrError('PCTR_CONFIG_INVALID', `registry URL pool=${u.searchParams.get('pool')} must be an integer in [1, 100]`);
  u.searchParams.delete('schema');
  u.searchParams.delete('pool');
  const connectionString = u.toString();
  u.password = '';
  u.searchParams.set('schema', schema);
  return { type: 'postgres', connectionString, schema, poolSize: pool, location: u.toString() };
}

/** `?` → `$1, $2, …` (the registry's SQL has no `?` inside literals). */
const rewritten = new Map<string, string>();
function toPg(text: string): string {
  let out = rewritten.get(text);
  if (out === undefined) {
    let n = 0;
    out = text.replace(/\?/g, () => `$${++n}`);
    rewritten.set(text, out);
  }
  return out;
}

export async function openPostgresDriver(cfg: PostgresRegistryConfig, logger: Logger): Promise<{ driver: SqlDriver; feed: ChangeFeed }> {
  const clientConfig: pg.ClientConfig = {
    connectionString: cfg.connectionString,
    options: `-c search_path=${cfg.schema}`,
    application_name: `pctr-registry:${cfg.schema}`.slice(0, 63),
    connectionTimeoutMillis: 10_000,
  };
  const pool = new pg.Pool({ ...clientConfig, max: cfg.poolSize, idleTimeoutMillis: 30_000 });
  // An idle pooled connection that dies (server restart) is replaced on next use; without a
  // listener this event would crash the process.
  pool.on('error', (e) => logger.warn({ err: errorMessage(e), registry: cfg.location }, 'registry: idle PostgreSQL connection lost'));
  const channel = `pctr_registry_${hashString(cfg.schema).toString(16)}`;

  /** A pooled connection with a transaction begun; one retry when the first connection handed out is dead. */
  const begin = async (statement: string): Promise<pg.PoolClient> => {
    for (let attempt = 1; ; attempt++) {
      let client: pg.PoolClient | undefined;
      try {
        client = await pool.connect();
        await client.query(statement);
        return client;
      } catch (e) {
        client?.release(e as Error);
        const err = translate(e, cfg.location);
        // Nothing ran yet, so retrying is safe: the server may have killed idle connections the pool still held.
        if (attempt === 2 || !isPctrError(err, 'PCTR_BACKEND_UNAVAILABLE')) throw err;
      }
    }
  };

  const inTransaction = async <T>(beginStatement: string, work: () => SqlWork<T>): Promise<T> => {
    const client = await begin(beginStatement);
    let broken: Error | undefined;
    try {
      const out = await driveAsync(work(), async (q: Query): Promise<Row[]> => (await client.query(toPg(q.sql), q.params as unknown[])).rows as Row[]);
      await client.query('COMMIT');
      return out;
    } catch (e) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        broken = rollbackError as Error;
      }
      throw translate(e, cfg.location);
    } finally {
      client.release(broken);
    }
  };

  const driver: SqlDriver = {
    dialect: 'postgres',
    location: cfg.location,
    forUpdate: ' FOR UPDATE',
    read: (work) => inTransaction('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', work),
    write: (work) => inTransaction('BEGIN', work),
    notifyQuery: (name, alias) => ({ sql: 'SELECT pg_notify(?, ?)', params: [channel, encodeNotice({ name, alias })] }),
    close: () => pool.end(),
  };
  try {
    await driver.write(() => migrate('postgres', cfg.location, cfg.schema));
  } catch (e) {
    await pool.end();
    throw e;
  }
  return { driver, feed: new PgChangeFeed(clientConfig, channel, logger) };
}

const UNAVAILABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EPIPE', '57P01', '57P02', '57P03', '53300']);

function translate(e: unknown, location: string): unknown {
  if (isPctrError(e)) return e;
  const code = (e as { code?: string }).code ?? '';
  if (UNAVAILABLE.has(code) || code.startsWith('08') || /timeout|terminat|Connection/i.test(errorMessage(e))) {
    return new PctrError('PCTR_BACKEND_UNAVAILABLE', `registry ${location} is unavailable: ${errorMessage(e)}`, { cause: e });
  }
  return new PctrError('PCTR_INTERNAL', `registry ${location}: ${errorMessage(e)}${code ? ` (${code})` : ''}`, { cause: e });
}
