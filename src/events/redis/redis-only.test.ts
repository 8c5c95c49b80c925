/**
 * Redis-backend behaviour outside the contract: trimming, a server that goes away and comes back
 * (a throwaway redis-server with an fsynced AOF, so its data survives the restart), and the
 * kill -9 tests shared with the file backend.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { keyIn, redisSettings } from '../../../test/contracts/event-log.contract.ts';
import { dropRedisPrefix, redisUrl, tempDir, uniqueName } from '../../../test/helpers/services.ts';
import { isPctrError, type PctrError } from '../../core/index.ts';
import { createEventLog, type EventLog, type LogRecord } from '../index.ts';
import { fixturePath, runChild } from '../testing/child-process.ts';
import { checkTransactionalRun, fillInput } from '../testing/crash-checks.ts';
import { Redis } from 'ioredis';

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('redis log', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('trims each partition stream to about retentionBytes entries', async () => {
    const prefix = uniqueName('evtrim');
    cleanups.push(() => dropRedisPrefix(prefix));
    const log = await createEventLog(redisSettings(prefix, { partitions: 2, retentionBytes: 100 }));
    cleanups.push(() => log.close());
    const recs = Array.from({ length: 1000 }, (_, i) => ({ key: keyIn(0, `k${i}`, 2), value: `v${i}` }));
    await log.append('t', recs);
    const r = new Redis(redisUrl());
    const len = await r.xlen(`${prefix}:t:0`);
    r.disconnect();
    expect(len).toBeGreaterThanOrEqual(100);
    expect(len).toBeLessThan(400);
    expect(await log.endOffsets('t')).toEqual([1000, 0]);
    const c = log.subscribe('t', 'g');
    const b = await c.poll(2000, 1000);
    expect(b.records).toHaveLength(len);
    expect(b.records[b.records.length - 1].offset).toBe(999);
  });

  it('fails fast with a clear error while Redis is down and recovers when it returns', async () => {
    const t = tempDir('evredis');
    cleanups.push(() => t.remove());
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    let server: ChildProcess | null = null;
    const start = async () => {
      server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', t.dir], { stdio: 'ignore' });
      await until('redis-server start', async () => ((await listening(port)) ? true : undefined));
    };
    const stop = async () => {
      const s = server as ChildProcess | null;
      if (!s || s.exitCode !== null) return;
      const exited = new Promise((r) => s.once('exit', r));
      s.kill('SIGKILL');
      await exited;
    };
    cleanups.push(stop);
    await start();
    const log: EventLog = await createEventLog(redisSettings('p', { partitions: 2 }, `redis://127.0.0.1:${port}`));
    cleanups.push(() => log.close());
    await log.append('t', [{ key: 'a', value: '1' }]);
    const c = log.subscribe('t', 'g');
    expect((await c.poll(10, 1000)).records.map((r) => r.value)).toEqual(['1']);

    await stop();
    const t0 = Date.now();
    const err = (await log.append('t', [{ key: 'b', value: '2' }]).catch((e: unknown) => e)) as PctrError;
    expect(isPctrError(err, 'PCTR_BACKEND_UNAVAILABLE')).toBe(true);
    expect(err.message).toContain(`event log redis 127.0.0.1:${port} is unreachable (append to t)`);
    expect(Date.now() - t0).toBeLessThan(5000);
    const pollErr = await c.poll(10, 100).catch((e: unknown) => e);
    expect(isPctrError(pollErr, 'PCTR_BACKEND_UNAVAILABLE')).toBe(true);

    await start();
    await until('append after restart', async () => (await log.append('t', [{ key: 'c', value: '3' }])).offsets[0]);
    const got: LogRecord[] = await until('poll after restart', async () => {
      const b = await c.poll(10, 500);
      return b.records.length > 0 ? [...b.records] : undefined;
    });
    expect(got.map((r) => r.value)).toContain('3');
  });

  it('keeps every acknowledged append across SIGKILLs of the producer', { timeout: 120_000 }, async () => {
    const prefix = uniqueName('evcrashp');
    cleanups.push(() => dropRedisPrefix(prefix));
    const url = `${redisUrl()}?prefix=${prefix}`;
    const acked: string[] = [];
    for (let run = 0; run < 5; run++) {
      const r = await runChild(fixturePath('crash-producer.fixture.ts'), [url, `run${run}`], 100 + Math.floor(Math.random() * 1500));
      expect(r.killed, r.stderr).toBe(true);
      acked.push(...r.lines);
    }
    const log = await createEventLog(redisSettings(prefix, { partitions: 4 }));
    cleanups.push(() => log.close());
    const c = log.subscribe('crash', 'check');
    const at = new Map<string, string>();
    for (;;) {
      const b = await c.poll(50_000, 0);
      if (b.records.length === 0) break;
      for (const rec of b.records) at.set(`${rec.partition} ${rec.offset}`, rec.key);
    }
    for (const line of acked) {
      const [p, offset, key] = line.split(' ');
      expect(at.get(`${p} ${offset}`), `acknowledged record ${line} is missing`).toBe(key);
    }
  });

  it('emits each transactional output exactly once across SIGKILLs', { timeout: 120_000 }, async () => {
    const prefix = uniqueName('evcrasht');
    cleanups.push(() => dropRedisPrefix(prefix));
    const settings = redisSettings(prefix, { partitions: 4 });
    const input = await fillInput(settings, 10_000);
    for (let run = 0; run < 5; run++) {
      const r = await runChild(fixturePath('crash-transactional.fixture.ts'), [settings.url], 3 + Math.floor(Math.random() * 30));
      expect(r.killed, r.stderr).toBe(true);
      await checkTransactionalRun(settings, input, false);
    }
    const last = await runChild(fixturePath('crash-transactional.fixture.ts'), [settings.url]);
    expect(last.lines.at(-1), last.stderr).toBe('done');
    await checkTransactionalRun(settings, input, true);
  });
});
