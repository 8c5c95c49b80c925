import { join } from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../core/index.ts';
import { registryContract } from '../../test/contracts/registry.contract.ts';
import { createPgSchema, pgUrl, tempDir } from '../../test/helpers/services.ts';
import { createRegistry, type RegistryConfig } from './index.ts';
import { parsePostgresUrl } from './postgres.ts';
import type { ModelVersion, Registry } from './registry.ts';

function schemaUrl(schema: string): string {
  const u = new URL(pgUrl());
  u.searchParams.set('schema', schema);
  return u.toString();
}

async function pgFixture() {
  const s = await createPgSchema('registry');
  const tmp = tempDir('registry');
  const url = schemaUrl(s.schema);
  const artifacts = join(tmp.dir, 'artifacts');
  return {
    schema: s.schema,
    url,
    artifacts,
    open: (extra?: Partial<RegistryConfig>) => createRegistry({ url, artifacts, logger: silentLogger, ...extra }),
    cleanup: async () => {
      await s.drop();
      tmp.remove();
    },
  };
}

registryContract('postgres', pgFixture);

/** Runs SQL on a separate connection (to watch or kill the registry's connections). */
async function admin<T extends pg.QueryResultRow>(text: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: pgUrl() });
  await c.connect();
  try {
    return (await c.query<T>(text, params)).rows;
  } finally {
    await c.end();
  }
}

async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const listening = async (schema: string) =>
  (await admin(`SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN%'`, [`pctr-registry:${schema}`])).length > 0;

describe('postgres registry backend', () => {
  it('parses the URL: schema and pool are the registry\'s, the password stays out of messages', () => {
    const cfg = parsePostgresUrl('postgres://app:secret@db.internal:5433/pctr?schema=models&pool=2&sslmode=disable');
    expect(cfg).toMatchObject({ type: 'postgres', schema: 'models', poolSize: 2 });
    expect(cfg.connectionString).toBe('postgres://app:secret@db.internal:5433/pctr?sslmode=disable');
    expect(cfg.location).not.toContain('secret');
    expect(parsePostgresUrl('postgres://h/db').schema).toBe('public');
    expect(() => parsePostgresUrl('postgres://h/db?schema=Bad-Name')).toThrow(/lowercase identifier/);
  });

  it('delivers alias moves through LISTEN/NOTIFY, not only by polling', async () => {
    const fx = await pgFixture();
    const regs: Registry[] = [];
    try {
      // Polling once a minute: a delivery within a second can only come from NOTIFY.
      const watcher = await fx.open({ pollMs: 60_000 });
      const mover = await fx.open();
      regs.push(watcher, mover);
      await mover.register('ctr', new TextEncoder().encode('a'), { kind: 'ftrl', params: {}, metrics: {} });
      await mover.register('ctr', new TextEncoder().encode('b'), { kind: 'ftrl', params: {}, metrics: {} });
      const got: number[] = [];
      watcher.watch('ctr', 'champion', (v) => void got.push(v.version), { known: null });
      await until(() => listening(fx.schema), 5_000, 'the change feed to LISTEN');
      const t0 = Date.now();
      await mover.setAlias('ctr', 'champion', 2);
      await until(() => got.length === 1, 1_000, 'the NOTIFY delivery');
      expect(got).toEqual([2]);
      expect(Date.now() - t0).toBeLessThan(1_000);
    } finally {
      await Promise.all(regs.map((r) => r.close()));
      await fx.cleanup();
    }
  });

  it('survives its connections being killed: logs, keeps reporting moves, reconnects', async () => {
    const fx = await pgFixture();
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(s) });
    const regs: Registry[] = [];
    try {
      const watcher = await fx.open({ logger });
      const mover = await fx.open();
      regs.push(watcher, mover);
      for (const s of ['a', 'b', 'c']) await mover.register('ctr', new TextEncoder().encode(s), { kind: 'ftrl', params: {}, metrics: {} });
      await mover.setAlias('ctr', 'champion', 1);
      const got: ModelVersion[] = [];
      watcher.watch('ctr', 'champion', (v) => void got.push(v));
      await until(() => got.length === 1 && listening(fx.schema), 5_000, 'the first delivery and the LISTEN');
      const killed = await admin(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, [`pctr-registry:${fx.schema}`]);
      expect(killed.length).toBeGreaterThan(0);
      await until(() => lines.some((l) => l.includes('change feed disconnected')), 2_000, 'the disconnect to be logged');
      const t0 = Date.now();
      await mover.setAlias('ctr', 'champion', 2);
      await until(() => got.length === 2, 1_000, 'a delivery while reconnecting');
      expect(Date.now() - t0).toBeLessThan(1_000);
      await until(() => lines.some((l) => l.includes('change feed reconnected')), 5_000, 'the reconnect');
      await mover.setAlias('ctr', 'champion', 3);
      await until(() => got.length === 3, 1_000, 'a delivery after reconnecting');
      expect(got.map((v) => v.version)).toEqual([1, 2, 3]);
      expect((await watcher.get('ctr', '@champion')).version).toBe(3);
    } finally {
      await Promise.all(regs.map((r) => r.close()));
      await fx.cleanup();
    }
  });
});
