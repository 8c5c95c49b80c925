import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Click, Impression, SimulatedClock, TOPICS, loadConfig, silentLogger } from '../core/index.ts';
import { createEventLog, type EventLog, type LogRecord } from '../events/index.ts';
import { MemoryOnlineStore } from '../features/index.ts';
import { createRegistry, type Registry } from '../registry/index.ts';
import { buildApp } from '../serving/index.ts';
import { AdMarket } from './ad-market.ts';
import { TrafficDriver } from './http-driver.ts';

const START = Date.UTC(2025, 0, 1, 6);

let dir: string;
let log: EventLog;
let registry: Registry;
let store: MemoryOnlineStore;
let app: FastifyInstance;
let baseUrl: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pctr-driver-'));
  const config = loadConfig({
    env: {},
    overrides: {
      dataDir: dir,
      'events.partitions': 2,
      'events.url': `file:${join(dir, 'events')}`,
      'registry.url': `sqlite:${join(dir, 'registry.db')}`,
      'registry.artifacts': join(dir, 'artifacts'),
      'gateway.apiKeys': 'driver-client:client',
    },
  });
  log = await createEventLog(config.events);
  registry = await createRegistry({ url: config.registry.url, artifacts: config.registry.artifacts, logger: silentLogger });
  store = new MemoryOnlineStore();
  app = await buildApp({ config, store, events: log, registry, predictionLog: { flushMs: 2 } });
  await app.listen({ host: '127.0.0.1', port: 0 });
  baseUrl = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
});

afterAll(async () => {
  await app?.close();
  await log?.close();
  await registry?.close();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Every record of a topic written so far (the gateway's logger is drained first). */
async function readAll(topic: string): Promise<LogRecord[]> {
  await app.serving.predictions.drain();
  const consumer = log.subscribe(topic, `test-${Math.random().toString(36).slice(2)}`, { from: 'earliest' });
  const out: LogRecord[] = [];
  try {
    for (;;) {
      const batch = await consumer.poll(10_000, 50);
      if (batch.records.length === 0) return out;
      out.push(...batch.records);
    }
  } finally {
    await consumer.close();
  }
}

describe('TrafficDriver', () => {
  it('drives a gateway as fast as it answers: impressions and clicks on the simulated clock, served vs oracle', async () => {
    const clock = new SimulatedClock({ start: START, speed: 0 });
    const market = new AdMarket({ seed: 3, users: 300, ads: 200, baseCtr: 0.05 });
    const driver = new TrafficDriver({ baseUrl, apiKey: 'driver-client', market, clock, pacing: 'max', requestRate: 20, k: 2, concurrency: 4, impressions: 3_000, drainClicks: true });
    const s = await driver.run();

    expect(s.impressions).toBeGreaterThanOrEqual(3_000);
    expect(s.impressions).toBeLessThan(3_002);
    expect(s.failures).toBe(0);
    expect(s.statuses['200']).toBeGreaterThan(0);
    expect(s.modelVersion).toBe('ctr@prior');
    expect(s.versions['ctr@prior']).toBe(s.impressions);
    // 20 requests per simulated second, stamped by slot: the span is exact.
    expect(s.lastTs! - s.firstTs!).toBe((s.requests - 1) * 50);
    expect(s.clicks).toBeGreaterThan(60);
    expect(s.clicksPending).toBe(0);
    expect(s.clicksSent).toBe(s.clicks);
    expect(clock.now()).toBeGreaterThan(s.lastTs!);

    const impressions = (await readAll(TOPICS.impressions)).map((r) => Impression.parse(JSON.parse(r.value)));
    expect(impressions).toHaveLength(s.impressions);
    expect(Math.min(...impressions.map((i) => i.ts))).toBe(START);
    expect(new Set(impressions.map((i) => i.position))).toEqual(new Set([0, 1]));
    const served = new Map(impressions.map((i) => [i.impressionId, i.ts]));
    const records = await readAll(TOPICS.clicks);
    const clicks = records.map((r) => Click.parse(JSON.parse(r.value)));
    expect(clicks).toHaveLength(s.clicksSent + s.duplicatesSent);
    for (const c of clicks) expect(c.ts).toBeGreaterThan(served.get(c.impressionId)!);
    // Sent in event-time order (which each partition keeps).
    for (const p of [0, 1]) {
      const times = clicks.filter((_, i) => records[i].partition === p).map((c) => c.ts);
      expect(times).toEqual([...times].sort((a, b) => a - b));
    }

    const m = driver.metrics();
    expect(m.impressions).toBe(s.impressions);
    expect(m.clicks).toBe(s.clicks);
    expect(m.oracleAuc).toBeGreaterThan(0.6);
    expect(m.servedAuc).toBeGreaterThan(0.4);
    expect(m.calibration).toBeGreaterThan(0);
    expect(driver.metrics(500).impressions).toBe(500);
  });

  it('paces requests by a running simulated clock', async () => {
    const clock = new SimulatedClock({ start: START, speed: 20 });
    const market = new AdMarket({ seed: 4, users: 100, ads: 100 });
    const driver = new TrafficDriver({ baseUrl, apiKey: 'driver-client', market, clock, requestRate: 10, concurrency: 2, impressions: 60 });
    const t0 = performance.now();
    const s = await driver.run();
    const wallMs = performance.now() - t0;
    expect(s.impressions).toBeGreaterThanOrEqual(60);
    // 10 requests per simulated second at 20× the wall: ~5 ms of wall time per request.
    expect(wallMs).toBeGreaterThan(((s.requests - 1) * 100) / 20 - 20);
    expect(s.lastTs! - s.firstTs!).toBeGreaterThanOrEqual((s.requests - 1) * 100);
    expect(Math.abs(clock.now() - s.lastTs!)).toBeLessThan(2_000);
  });

  it('counts refused requests and stops when its signal aborts', async () => {
    const clock = new SimulatedClock({ start: START, speed: 0 });
    const driver = new TrafficDriver({ baseUrl, apiKey: 'not-a-key', market: new AdMarket({ seed: 5 }), clock, pacing: 'max', signal: AbortSignal.timeout(300) });
    const s = await driver.run();
    expect(s.impressions).toBe(0);
    expect(s.failures).toBe(s.requests);
    expect(s.statuses['401']).toBe(s.requests);
    expect(s.lastError).toMatch(/\/v1\/rank answered 401/);
  });

  it('refuses max pacing on a clock it cannot advance', () => {
    expect(() => new TrafficDriver({ baseUrl, apiKey: 'k', market: new AdMarket({ seed: 1 }), clock: { now: () => 0 }, pacing: 'max' })).toThrow(/manual SimulatedClock/);
  });
});
