import { createServer, connect, type Server, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { onlineStoreContract } from '../../../test/contracts/online-store.contract.ts';
import { dropRedisPrefix, redisUrl, uniqueName } from '../../../test/helpers/services.ts';
import { isPctrError } from '../../core/index.ts';
import { HEADER_BYTES, PACKED_FORMAT } from './codec.ts';
import { RedisOnlineStore, createOnlineStore, parseOnlineStoreUrl, parseRedisStoreUrl } from './index.ts';

const prefixes: string[] = [];

onlineStoreContract('redis', {
  create: async (opts) => {
    const prefix = uniqueName('os');
    prefixes.push(prefix);
    return new RedisOnlineStore(parseRedisStoreUrl(redisUrl(), { prefix, readTimeoutMs: 2000, ...(opts?.ttlMs ? { ttlMs: opts.ttlMs } : {}) }));
  },
  cleanup: async () => {
    for (const p of prefixes.splice(0)) await dropRedisPrefix(p);
  },
});

/** A TCP relay to the real Redis that can stop forwarding, to make the store slow without touching Redis. */
async function stallableProxy(target: string): Promise<{ url: string; stall: () => void; drop: () => void; close: () => Promise<void> }> {
  const t = new URL(target);
  let stalled = false;
  const sockets: Socket[] = [];
  const server: Server = createServer((client) => {
    const upstream = connect(Number(t.port || 6379), t.hostname);
    sockets.push(client, upstream);
    client.on('data', (d) => {
      if (!stalled) upstream.write(d);
    });
    upstream.on('data', (d) => {
      if (!stalled) client.write(d);
    });
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `redis://127.0.0.1:${port}`,
    stall: () => (stalled = true),
    /** Cut every open connection (as a Redis restart would); new ones are accepted. */
    drop: () => {
      for (const s of sockets.splice(0)) s.destroy();
    },
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

async function unusedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

describe('redis online store', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });
  afterAll(async () => {
    for (const p of prefixes.splice(0)) await dropRedisPrefix(p);
  });

  it('stores one packed value per entity at prefix:f:entity:key, with a TTL', async () => {
    const prefix = uniqueName('os');
    prefixes.push(prefix);
    const store = createOnlineStore(`${redisUrl()}?prefix=${prefix}&ttl=1h`);
    cleanup.push(() => store.close());
    await store.put([{ ref: { entity: 'ad', key: 'a:1' }, values: { ad_imps_1h: 3, ad_clicks_1h: 1 }, ts: 1234 }]);
    const r = new Redis(redisUrl());
    cleanup.push(async () => void r.disconnect());
    const raw = await r.getBuffer(`${prefix}:f:ad:a:1`);
    expect(raw).not.toBeNull();
    expect(raw![0]).toBe(PACKED_FORMAT);
    expect(raw!.readDoubleLE(8)).toBe(1234);
    expect(raw!.length).toBe(HEADER_BYTES + 4 * 6);
    const ttl = await r.pttl(`${prefix}:f:ad:a:1`);
    expect(ttl).toBeGreaterThan(3_500_000);
    expect(ttl).toBeLessThanOrEqual(3_600_000);
  });

  it('reads a value written with another layout as unknown rather than misreading it', async () => {
    const prefix = uniqueName('os');
    prefixes.push(prefix);
    const older = new RedisOnlineStore(parseRedisStoreUrl(redisUrl(), { prefix, layouts: { ad: ['ad_imps_1h', 'ad_clicks_1h'] } }));
    const current = new RedisOnlineStore(parseRedisStoreUrl(redisUrl(), { prefix, readTimeoutMs: 2000 }));
    cleanup.push(() => older.close(), () => current.close());
    await older.put([{ ref: { entity: 'ad', key: 'a' }, values: { ad_imps_1h: 1, ad_clicks_1h: 0 }, ts: 1 }]);
    expect(await current.get([{ entity: 'ad', key: 'a' }])).toEqual([null]);
  });

  it('fails fast with PCTR_BACKEND_UNAVAILABLE when Redis is unreachable', async () => {
    const port = await unusedPort();
    const store = createOnlineStore(`redis://127.0.0.1:${port}?timeout=500ms`);
    cleanup.push(() => store.close());
    for (let i = 0; i < 2; i++) {
      const t0 = performance.now();
      const err = await store.get([{ entity: 'user', key: 'u' }]).catch((e: unknown) => e);
      expect(isPctrError(err, 'PCTR_BACKEND_UNAVAILABLE')).toBe(true);
      expect((err as Error).message).toContain(`127.0.0.1:${port}`);
      expect(performance.now() - t0).toBeLessThan(600);
    }
    const err = await store.put([{ ref: { entity: 'user', key: 'u' }, values: {}, ts: 1 }]).catch((e: unknown) => e);
    expect(isPctrError(err, 'PCTR_BACKEND_UNAVAILABLE')).toBe(true);
  });

  it('fails a read slower than its budget with PCTR_TIMEOUT, without waiting for the reply', async () => {
    const proxy = await stallableProxy(redisUrl());
    cleanup.push(() => proxy.close());
    const prefix = uniqueName('os');
    prefixes.push(prefix);
    const store = createOnlineStore(`${proxy.url}?prefix=${prefix}&timeout=50ms`);
    cleanup.push(() => store.close());
    await store.put([{ ref: { entity: 'user', key: 'u' }, values: { user_imps_1h: 1 }, ts: 1 }]);
    expect(await store.get([{ entity: 'user', key: 'u' }])).toEqual([{ user_imps_1h: 1 }]);
    proxy.stall();
    const t0 = performance.now();
    const err = await store.get([{ entity: 'user', key: 'u' }]).catch((e: unknown) => e);
    const took = performance.now() - t0;
    expect(isPctrError(err, 'PCTR_TIMEOUT')).toBe(true);
    expect(took).toBeGreaterThanOrEqual(45);
    expect(took).toBeLessThan(500);
  });

  it('fails fast while its connection is down and recovers when Redis is back', async () => {
    const proxy = await stallableProxy(redisUrl());
    cleanup.push(() => proxy.close());
    const prefix = uniqueName('os');
    prefixes.push(prefix);
    const store = createOnlineStore(`${proxy.url}?prefix=${prefix}&timeout=2s`);
    cleanup.push(() => store.close());
    await store.put([{ ref: { entity: 'ad', key: 'a' }, values: { ad_imps_1h: 4 }, ts: 1 }]);
    proxy.drop();
    await vi.waitFor(async () => {
      const t0 = performance.now();
      const err = await store.get([{ entity: 'ad', key: 'a' }]).catch((e: unknown) => e);
      expect(isPctrError(err, 'PCTR_BACKEND_UNAVAILABLE')).toBe(true);
      expect(performance.now() - t0).toBeLessThan(100);
    });
    await vi.waitFor(async () => expect(await store.get([{ entity: 'ad', key: 'a' }])).toEqual([{ ad_imps_1h: 4 }]), { timeout: 5000, interval: 50 });
  });

  it('parses its URL, and the configured read budget overrides the URL', () => {
    expect(parseOnlineStoreUrl('redis://h:6380/2?prefix=x&ttl=2h&timeout=5ms')).toEqual({
      type: 'redis',
      url: 'redis://h:6380/2',
      prefix: 'x',
      ttlMs: 7_200_000,
      readTimeoutMs: 5,
      writeTimeoutMs: 10_000,
      layouts: undefined,
    });
    expect(parseOnlineStoreUrl('redis://h?timeout=5ms', { readTimeoutMs: 30 })).toMatchObject({ readTimeoutMs: 30, prefix: 'pctr' });
    expect(() => parseOnlineStoreUrl('redis://h?ttl=soon')).toThrow(/ttl=soon/);
    expect(() => parseOnlineStoreUrl('redis://h?bogus=1')).toThrow(/unknown parameter "bogus"/);
    expect(() => parseOnlineStoreUrl('mongo://h')).toThrow(/unknown scheme/);
  });
});
