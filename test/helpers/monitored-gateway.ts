/**
 * A gateway with the monitor and the dashboard API on real embedded backends (file event log,
 * SQLite registry and run store in a temporary directory), plus the loop around it: simulated
 * market traffic ranked through /v1/rank with its clicks sent to /v1/events, and the join run in
 * this process until every impression is labeled.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { silentLogger, type Config, type ConfigOverrides } from '../../src/core/index.ts';
import { dashboardApi } from '../../src/dashboard/index.ts';
import { createEventLog, type EventLog } from '../../src/events/index.ts';
import { MemoryOnlineStore } from '../../src/features/index.ts';
import { JoinWorker, joinWindowFromConfig } from '../../src/join/index.ts';
import { Monitor, type Webhook } from '../../src/monitoring/index.ts';
import { createRegistry, type AliasChangeHook, type Registry } from '../../src/registry/index.ts';
import { buildApp } from '../../src/serving/index.ts';
import { registerFixtureModel } from '../../src/serving/testing/fixtures.ts';
import { testGatewayConfig } from '../../src/serving/testing/gateway-fixture.ts';
import { AdMarket } from '../../src/sim/index.ts';
import { createRunStore, type RunStore } from '../../src/training/index.ts';

export const CLIENT = { authorization: 'Bearer test-client' };
export const ADMIN = { authorization: 'Bearer test-admin' };

export interface MonitoredGateway {
  readonly app: FastifyInstance;
  readonly config: Config;
  readonly registry: Registry;
  readonly runs: RunStore;
  readonly log: EventLog;
  readonly monitor: Monitor;
  readonly dir: string;
  close(): Promise<void>;
}

export interface MonitoredGatewayOptions {
  readonly overrides?: ConfigOverrides;
  /** Artifacts registered in order (versions 1, 2, …); the first becomes champion, a second challenger. */
  readonly models?: readonly Uint8Array[];
  readonly webhook?: Webhook | null;
  readonly onAliasChange?: AliasChangeHook;
}

export async function openMonitoredGateway(opts: MonitoredGatewayOptions = {}): Promise<MonitoredGateway> {
  const { dir, config } = testGatewayConfig('pctr-monitor-', opts.overrides);
  const registry = await createRegistry({ url: config.registry.url, artifacts: config.registry.artifacts, logger: silentLogger, pollMs: 50, onAliasChange: opts.onAliasChange });
  const runs = await createRunStore(`sqlite:${join(dir, 'runs.db')}`);
  const log = await createEventLog(config.events);
  const store = new MemoryOnlineStore();
  const models = opts.models ?? [];
  for (const [i, bytes] of models.entries()) await registerFixtureModel(registry, bytes, { alias: i === 0 ? 'champion' : i === 1 ? 'challenger' : undefined });
  const monitor = await Monitor.open({ config, log, registry, runs, logger: silentLogger, tickMs: 100, ...(opts.webhook !== undefined ? { webhook: opts.webhook } : {}) });
  const app = await buildApp({ config, store, events: log, registry, predictionLog: { flushMs: 2 }, plugins: [dashboardApi({ monitor, registry, runs, config })] });
  monitor.start();
  return {
    app,
    config,
    registry,
    runs,
    log,
    monitor,
    dir,
    close: async () => {
      await monitor.close();
      await app.close();
      await log.close();
      await registry.close();
      await runs.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface TrafficReport {
  readonly requests: number;
  /** Ads served (impressions logged). */
  readonly impressions: number;
  readonly clicks: number;
  /** Event time of the last request. */
  readonly lastTs: number;
}

/**
 * `requests` simulated requests, one per `stepMs` of event time from `startTs`, ranked through the
 * gateway (k ads each); every click the market draws is sent to /v1/events at its event time.
 */
export async function driveMarket(app: FastifyInstance, opts: { requests: number; startTs: number; stepMs?: number; seed?: number; k?: number; users?: number }): Promise<TrafficReport> {
  const market = new AdMarket({ seed: opts.seed ?? 3, users: opts.users ?? 500, candidates: 30, startTs: opts.startTs, idPrefix: `m${opts.seed ?? 3}.` });
  const clicks: { type: 'click'; impressionId: string; ts: number }[] = [];
  let ts = opts.startTs;
  let impressions = 0;
  for (let i = 0; i < opts.requests; i++) {
    ts = opts.startTs + i * (opts.stepMs ?? 1000);
    market.advance(ts);
    const req = market.nextRequest(ts);
    const res = await app.inject({ method: 'POST', url: '/v1/rank', headers: CLIENT, payload: { requestId: req.requestId, userId: req.userId, ts, context: req.context, candidates: req.candidates, k: opts.k ?? 3 } });
    if (res.statusCode !== 200) throw new Error(`rank failed: ${res.statusCode} ${res.body}`);
    const ads = (res.json() as { ads: { adId: string; impressionId: string; position: number }[] }).ads;
    impressions += ads.length;
    for (const ad of ads) {
      const click = market.outcome(req, ad.adId, ad.position, ts).click;
      if (click !== null) clicks.push({ type: 'click', impressionId: ad.impressionId, ts: ts + click.delayMs });
    }
  }
  for (let i = 0; i < clicks.length; i += 5000) {
    const res = await app.inject({ method: 'POST', url: '/v1/events', headers: CLIENT, payload: { events: clicks.slice(i, i + 5000) } });
    if (res.statusCode !== 200) throw new Error(`events failed: ${res.statusCode} ${res.body}`);
  }
  await app.serving.predictions.drain();
  return { requests: opts.requests, impressions, clicks: clicks.length, lastTs: ts };
}

/** Run the join over everything logged so far and label every pending impression. */
export async function runJoin(log: EventLog, config: Config): Promise<void> {
  const worker = await JoinWorker.open(log, { ...joinWindowFromConfig(config), partitions: [...Array(config.events.partitions).keys()], checkpointIntervalMs: 50, idleTimeoutMs: 10, logger: silentLogger });
  try {
    await worker.run({ untilCaughtUp: true, drain: true });
  } finally {
    await worker.close();
  }
}
