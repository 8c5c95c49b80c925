/**
 * The distributed run store: PostgreSQL through a small `pg` pool, tables in the schema named by
 * `?schema=NAME` (default `public`) — by default the registry's own database. Tables are created
 * under an advisory lock, so workers starting together do not race on CREATE TABLE.
 */
import pg from 'pg';
import { PctrError, errorMessage, hashString, type Logger } from '../../core/index.ts';
import { SCHEMA_STATEMENTS, type Row, type SqlExec } from './sql-run-store.ts';

export interface PostgresRunStoreConfig {
  readonly type: 'postgres';
  readonly connectionString: string;
  readonly schema: string;
  /** The URL without password, for messages. */
  readonly location: string;
}

/** `postgres://user@host:port/db?schema=NAME` (`postgresql://` also accepted). */
export function parsePostgresRunStoreUrl(url: string): PostgresRunStoreConfig {
  let u: URL;
  try {
    u = new URL(url);
  } catch (e) {
    throw new PctrError('PCTR_CONFIG_INVALID', `run store URL is not a valid postgres:// URL: ${errorMessage(e)}`, { cause: e });
  }
  const schema = u.searchParams.get('schema') ?? 'public';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new PctrError('PCTR_CONFIG_INVALID', `run store URL schema "${schema}" must be a lowercase identifier (letters, digits, _)`);
  }
  // The registry's own parameters may ride along when the run store shares its URL.
  u.searchParams.delete('schema');
  u.searchParams.delete('pool');
  const connectionString = u.toString();
  u.password = '';
  u.searchParams.set('schema', schema);
  return { type: 'postgres', connectionString, schema, location: u.toString() };
}

const rewritten = new Map<string, string>();
/** `?` → `$1, $2, …` (the run store's SQL has no `?` inside literals). */
function toPg(text: string): string {
  let out = rewritten.get(text);
  if (out === undefined) {
    let n = 0;
    out = text.replace(/\?/g, () => `$${++n}`);
    rewritten.set(text, out);
  }
  return out;
}

export async function openPostgresRunStore(cfg: PostgresRunStoreConfig, logger: Logger): Promise<SqlExec> {
  const pool = new pg.Pool({
    connectionString: cfg.connectionString,
    options: `-c search_path=${cfg.schema}`,
    application_name: `pctr-runs:${cfg.schema}`.slice(0, 63),
    connectionTimeoutMillis: 10_000,
    max: 4,
    idleTimeoutMillis: 30_000,
  });
  // Without a listener, an idle connection dropped by the server would crash the process.
  pool.on('error', (e) => logger.warn({ err: errorMessage(e), runStore: cfg.location }, 'run store: idle PostgreSQL connection lost'));
  const translate = (e: unknown): PctrError => {
    if (e instanceof PctrError) return e;
    const code = (e as { code?: string }).code ?? '';
    if (/^(ECONN|ETIMEDOUT|ENOTFOUND|EPIPE|08|57P)/.test(code) || /timeout|terminat|Connection/i.test(errorMessage(e))) {
      return new PctrError('PCTR_BACKEND_UNAVAILABLE', `run store ${cfg.location} is unavailable: ${errorMessage(e)}`, { cause: e });
    }
    return new PctrError('PCTR_INTERNAL', `run store ${cfg.location}: ${errorMessage(e)}${code ? ` (${code})` : ''}`, { cause: e });
  };
  try {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [hashString(`pctr-runs:${cfg.schema}`)]);
      for (const s of SCHEMA_STATEMENTS) await client.query(s);
      await client.query('COMMIT');
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  } catch (e) {
    await pool.end();
    throw translate(e);
  }
  return {
    location: cfg.location,
    query: async (sql: string, params: readonly unknown[]): Promise<Row[]> => {
      try {
        return (await pool.query(toPg(sql), params as unknown[])).rows as Row[];
      } catch (e) {
        throw translate(e);
      }
    },
    close: () => pool.end(),
  };
}
