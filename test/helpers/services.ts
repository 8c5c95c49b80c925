/**
 * Connections to the real services for integration tests. Each test gets its own key prefix or
 * schema and removes it afterwards, so tests can run in parallel against one server.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';

export function redisUrl(): string {
  return process.env.PCTR_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
}

export function pgUrl(): string {
  return process.env.PCTR_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
}

/** A unique, short name for keys, schemas, directories. */
export function uniqueName(tag: string): string {
  return `t_${tag}_${randomBytes(5).toString('hex')}`;
}

/** Delete every Redis key under a prefix (SCAN, not KEYS). */
export async function dropRedisPrefix(prefix: string): Promise<void> {
  const r = new Redis(redisUrl());
  try {
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await r.del(...keys);
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
}

/** Create a fresh PostgreSQL schema; returns its name and a function that drops it. */
export async function createPgSchema(tag: string): Promise<{ schema: string; drop: () => Promise<void> }> {
  const schema = uniqueName(tag);
  const client = new pg.Client({ connectionString: pgUrl() });
  await client.connect();
  await client.query(`CREATE SCHEMA ${schema}`);
  await client.end();
  return {
    schema,
    drop: async () => {
      const c = new pg.Client({ connectionString: pgUrl() });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await c.end();
    },
  };
}

/** A temporary directory removed by the returned function. */
export function tempDir(tag: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `pctr-${tag}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
