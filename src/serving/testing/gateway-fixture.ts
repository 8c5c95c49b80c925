/**
 * A gateway on real embedded backends for tests: a SQLite registry and a file event log in a
 * temporary directory, an online store (memory by default, warmed with the fixture requests'
 * entities), and optionally a trained champion. `close()` removes everything.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { loadConfig, silentLogger, type Config, type ConfigOverrides } from '../../core/index.ts';
import { createEventLog, type EventLog, type LogRecord } from '../../events/index.ts';
import { MemoryOnlineStore, type OnlineStore } from '../../features/index.ts';
import { createRegistry, type Registry } from '../../registry/index.ts';
import type { MarketRequest } from '../../sim/index.ts';
import { buildApp, type GatewayDeps } from '../app.ts';
import { fixtureRows, marketRequests, registerFixtureModel, trainFixtureModel } from './fixtures.ts';

export interface TestGateway {
  readonly app: FastifyInstance;
  readonly config: Config;
  readonly registry: Registry;
  readonly log: EventLog;
  readonly store: OnlineStore;
  readonly requests: MarketRequest[];
  readonly dir: string;
  close(): Promise<void>;
}

export interface TestGatewayOptions {
  readonly overrides?: ConfigOverrides;
  /** Online store to use (default: a memory store warmed with the requests' entities); the caller closes it. */
  readonly store?: OnlineStore;
  /** Artifact bytes registered and made champion before the app starts (default: none — the prior serves). */
  readonly champion?: Uint8Array;
  readonly requests?: number;
  readonly candidates?: number;
  readonly predictionLog?: GatewayDeps['predictionLog'];
}

let cachedModel: Promise<Uint8Array> | null = null;

/** A small trained model, trained once per test process. */
export function fixtureModel(): Promise<Uint8Array> {
  cachedModel ??= trainFixtureModel({ examples: 6_000 });
  return cachedModel;
}

/** A fresh temporary data dir and an embedded-backend config of a test gateway in it (keys test-client, test-admin). */
export function testGatewayConfig(prefix: string, overrides: ConfigOverrides = {}): { dir: string; config: Config } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const config = loadConfig({
    env: {},
    overrides: {
      dataDir: dir,
      logLevel: 'silent',
      'events.url': `file:${join(dir, 'events')}`,
      'events.partitions': 2,
      'registry.url': `sqlite:${join(dir, 'registry.db')}`,
      'registry.artifacts': join(dir, 'artifacts'),
      'gateway.apiKeys': 'test-client:client,test-admin:admin',
      ...overrides,
    },
  });
  return { dir, config };
}

export async function openTestGateway(opts: TestGatewayOptions = {}): Promise<TestGateway> {
  const { dir, config } = testGatewayConfig('pctr-serving-', opts.overrides);
  const registry = await createRegistry({ url: config.registry.url, artifacts: config.registry.artifacts, logger: silentLogger, pollMs: 50 });
  const log = await createEventLog(config.events);
  const requests = marketRequests(opts.requests ?? 20, { candidates: opts.candidates ?? 30 });
  const ownStore = opts.store === undefined;
  const store = opts.store ?? new MemoryOnlineStore();
  if (ownStore) await store.put(fixtureRows(requests));
  if (opts.champion) await registerFixtureModel(registry, opts.champion, { name: config.registry.modelName, alias: 'champion' });
  const app = await buildApp({ config, store, events: log, registry, predictionLog: opts.predictionLog ?? { flushMs: 2 } });
  return {
    app,
    config,
    registry,
    log,
    store,
    requests,
    dir,
    close: async () => {
      await app.close();
      await log.close();
      await registry.close();
      if (ownStore) await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Every record of a topic, reading until `count` have arrived (or failing after `timeoutMs`). */
export async function readTopic(log: EventLog, topic: string, count: number, timeoutMs = 10_000): Promise<LogRecord[]> {
  const consumer = log.subscribe(topic, `test-reader-${Math.random().toString(36).slice(2)}`, { from: 'earliest' });
  const out: LogRecord[] = [];
  const until = Date.now() + timeoutMs;
  try {
    while (out.length < count && Date.now() < until) {
      const batch = await consumer.poll(10_000, 100);
      out.push(...batch.records);
    }
  } finally {
    await consumer.close();
  }
  if (out.length < count) throw new Error(`topic ${topic}: ${out.length} records after ${timeoutMs} ms, expected ${count}`);
  return out;
}

/** Resolves once `check` is true, polling every 10 ms; fails after `timeoutMs` naming `what`. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
