/**
 * End-to-end, distributed: every part is its own `pctr` process on the real Redis (event log,
 * online store, BullMQ) and PostgreSQL (registry, run history) — 2 gateways behind Debian's nginx
 * running the checked-in deploy/nginx.conf, 2 join workers splitting the partitions, 1 aggregator
 * (online features + offline Parquet sink), 1 trainer (schedules the batch pipeline in BullMQ) and
 * 1 BullMQ worker (runs it). The simulator's traffic goes through nginx until a model trained from
 * the joined stream is promoted; then both gateways, asked directly, must serve it, no request may
 * have failed, and every process must stop cleanly. Everything is torn down whatever happens.
 */
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_LEARNER_PARAMS, SIM_DEFAULTS } from '../src/app/index.ts';
import { silentLogger, systemClock } from '../src/core/index.ts';
import { createRegistry, type ModelVersion, type Registry } from '../src/registry/index.ts';
import { AdMarket, TrafficDriver, type MarketOptionsInput } from '../src/sim/index.ts';
import { QUEUE_NAME, createRunStore, type RunRecord, type RunStore } from '../src/training/index.ts';
import { startNginx } from './helpers/nginx.ts';
import { ProcessGroup, waitFor, type ManagedProcess } from './helpers/processes.ts';
import { createPgSchema, dropRedisPrefix, pgUrl, redisUrl, tempDir, uniqueName } from './helpers/services.ts';

const MODEL = 'ctr';
const CLIENT_KEY = 'e2e-client';
/** Attribution window of the join and of the simulated clicks: short, so labels are final within seconds. */
const WINDOW_MS = 5_000;

/**
 * The market of `pctr start --sim` (the embedded end-to-end test's traffic), with the attribution
 * window and click delays in seconds instead of minutes: event time is wall time here.
 */
const MARKET: MarketOptionsInput = {
  ...SIM_DEFAULTS.market,
  seed: SIM_DEFAULTS.seed,
  users: SIM_DEFAULTS.users,
  ads: SIM_DEFAULTS.ads,
  windowMs: WINDOW_MS,
  delay: { medianMs: 800 },
};
/** The pipeline's learner settings of `pctr start` (FTRL with the user × category and site × category crosses). */
const LEARNER_FLAGS = Object.entries(DEFAULT_LEARNER_PARAMS).flatMap(([k, v]) => ['--param', `${k}=${String(v)}`]);

const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await Promise.resolve().then(c).catch((e: unknown) => console.error('e2e-distributed cleanup failed:', e));
});

/** The one environment every process shares: distributed backends under names unique to this run. */
async function distributedEnv(): Promise<{ env: NodeJS.ProcessEnv; dir: string; queuePrefix: string }> {
  const pg = await createPgSchema('e2ed');
  cleanups.push(pg.drop);
  const dir = tempDir('e2e-distributed');
  cleanups.push(dir.remove);
  const prefixes = { events: uniqueName('e2ed_ev'), features: uniqueName('e2ed_fs'), queue: uniqueName('e2ed_q') };
  cleanups.push(() => Promise.all(Object.values(prefixes).map(dropRedisPrefix)));
  const env: NodeJS.ProcessEnv = {
    PCTR_DATA_DIR: join(dir.dir, 'data'),
    PCTR_EVENTS: `${redisUrl()}?prefix=${prefixes.events}`,
    PCTR_EVENT_PARTITIONS: '4',
    PCTR_ONLINE_STORE: `${redisUrl()}?prefix=${prefixes.features}`,
    PCTR_REGISTRY: `${pgUrl()}?schema=${pg.schema}`,
    PCTR_SCHEDULER: 'bullmq',
    PCTR_REDIS: redisUrl(),
    PCTR_QUEUE_PREFIX: prefixes.queue,
    PCTR_API_KEYS: `${CLIENT_KEY}:client`,
    PCTR_ATTRIBUTION_WINDOW: `${WINDOW_MS}ms`,
    PCTR_MAX_OUT_OF_ORDERNESS: '1s',
    // Event time is wall time, as in production: a scheduled run trains on [now − lag − 1 h, now − lag),
    // where the lag covers the attribution window, the out-of-orderness and a few seconds of join
    // checkpoints and offline-sink flushes, so every label in the range is final.
    PCTR_TRAIN_WINDOW: '1h',
    PCTR_TRAIN_LAG: '12s',
    PCTR_LOG_LEVEL: 'warn',
  };
  return { env, dir: dir.dir, queuePrefix: prefixes.queue };
}

/** Starts the long-running processes all at once (each takes seconds to boot) and waits until each is ready. */
async function startServices(group: ProcessGroup): Promise<{ gatewayUrls: string[]; services: ManagedProcess[] }> {
  const gateways = [1, 2].map((i) => group.pctr(`gateway-${i}`, ['gateway', '--host', '127.0.0.1', '--port', '0', '--json']));
  const joins = [0, 1].map((i) => group.pctr(`join-${i}`, ['join', '--worker', `${i}/2`, '--progress', '1s', '--json']));
  const aggregate = group.pctr('aggregate', ['aggregate', '--flush-interval', '1s', '--sink-interval', '2s', '--progress', '1s', '--json']);
  const worker = group.pctr('worker', ['worker', '--name', 'e2e-worker']);
  const gatewayUrls = await Promise.all(gateways.map(async (g) => (JSON.parse(await g.waitForLine(/"listening"/)) as { listening: string }).listening));
  await Promise.all([...joins, aggregate].map((p) => p.waitForLine(/"progress"/)));
  await worker.waitForLine(/pctr worker: ready/);
  return { gatewayUrls, services: [...gateways, ...joins, aggregate, worker] };
}

async function servedVersion(gatewayUrl: string): Promise<string> {
  const ready = (await (await fetch(`${gatewayUrl}/readyz`)).json()) as { model: 'none' | { version: string } };
  return ready.model === 'none' ? `${MODEL}@prior` : ready.model.version;
}

async function champion(registry: Registry): Promise<ModelVersion | null> {
  return registry.get(MODEL, '@champion').catch(() => null);
}

/** One rank request straight to a gateway (not through nginx); the version that scored it. */
async function rankDirect(gatewayUrl: string, market: AdMarket): Promise<string> {
  const req = market.nextRequest(Date.now());
  const res = await fetch(`${gatewayUrl}/v1/rank`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${CLIENT_KEY}` },
    body: JSON.stringify({ userId: req.userId, ts: req.ts, context: req.context, candidates: req.candidates, k: 1 }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { modelVersion: string }).modelVersion;
}

/** The pipeline runs so far, one line each with step durations and outcome: what a failure message needs. */
async function runHistory(runs: RunStore): Promise<string> {
  const line = (r: RunRecord) => {
    const steps = r.steps.map((s) => `${s.name} ${s.durationMs === null ? '-' : Math.round(s.durationMs)}`).join(', ');
    return `${r.id} ${r.status} (${steps} ms): ${r.error ? `${r.error.code} ${r.error.message}` : (r.gate?.reason ?? '')}`;
  };
  const list = (await runs.listRuns({ limit: 50 })).reverse();
  return `pipeline runs (${list.length}):\n${list.map(line).join('\n')}`;
}

describe('distributed mode', () => {
  it('2 gateways behind nginx, 2 join workers, aggregator, trainer and BullMQ worker: a model trained from the joined stream is promoted and served by both gateways', async () => {
    const started = performance.now();
    const marks: string[] = [];
    const mark = (what: string) => marks.push(`${what} at ${((performance.now() - started) / 1000).toFixed(1)} s`);
    const { env, dir, queuePrefix } = await distributedEnv();
    const group = new ProcessGroup(env);
    cleanups.push(() => group.stopAll(5_000));
    const { gatewayUrls, services } = await startServices(group);
    mark('processes ready');

    // The trainer registers the schedule in BullMQ and exits; the worker turns every tick into a run.
    const trainer = group.pctr('trainer', ['train', '--cron', '*/10 * * * * *', ...LEARNER_FLAGS]);
    expect((await trainer.exited).code, trainer.output()).toBe(0);
    expect(trainer.output()).toMatch(/scheduled the batch pipeline/);
    const nginx = await startNginx({ upstreams: gatewayUrls.map((u) => new URL(u).host), prefix: join(dir, 'nginx') });
    cleanups.push(() => nginx.stop());
    services.push(nginx.process);

    const registry = await createRegistry({ url: env.PCTR_REGISTRY!, artifacts: join(env.PCTR_DATA_DIR!, 'artifacts'), logger: silentLogger });
    cleanups.push(() => registry.close());
    const runs = await createRunStore(env.PCTR_REGISTRY!, { logger: silentLogger });
    cleanups.push(() => runs.close());
    const queue = new Queue(QUEUE_NAME, { connection: { url: redisUrl() }, prefix: queuePrefix });
    cleanups.push(() => queue.close());
    expect(await champion(registry)).toBeNull();
    expect(await Promise.all(gatewayUrls.map(servedVersion))).toEqual([`${MODEL}@prior`, `${MODEL}@prior`]);

    // The simulator's traffic through nginx, stamped with wall time, as fast as the gateways answer.
    const stopTraffic = new AbortController();
    cleanups.push(() => stopTraffic.abort());
    const driver = new TrafficDriver({ baseUrl: nginx.url, apiKey: CLIENT_KEY, market: new AdMarket(MARKET), clock: systemClock, requestRate: 1_000, k: SIM_DEFAULTS.k, concurrency: 8, signal: stopTraffic.signal });
    const traffic = driver.run();
    let trafficError: unknown = null;
    traffic.catch((e: unknown) => (trafficError = e));
    const trafficRunning = () => {
      if (trafficError) throw trafficError;
      return true;
    };

    // A version must pass the gate (beat the base rate on the latest slice of its range) to be promoted.
    await waitFor('a scheduled pipeline run to promote a champion', async () => trafficRunning() && (await champion(registry)) !== null, 180_000, ...services).catch(async (e: Error) => {
      const tails = services.map((p) => `--- ${p.name}:\n${p.output().slice(-1_500)}`).join('\n');
      throw new Error(`${e.message}\ntraffic: ${JSON.stringify(driver.stats())}\n${await runHistory(runs)}\n${tails}`);
    });
    mark(`first promotion after ${driver.stats().impressions} impressions`);

    // Stop scheduling and let the runs already queued finish, so the champion stays put.
    const unschedule = group.pctr('unschedule', ['train', '--unschedule']);
    expect((await unschedule.exited).code, unschedule.output()).toBe(0);
    const queueIdle = async () => Object.values(await queue.getJobCounts('active', 'waiting', 'delayed', 'prioritized', 'waiting-children')).every((n) => n === 0);
    await waitFor('the training queue to drain', queueIdle, 120_000, ...services);
    const final = (await champion(registry))!;
    const label = `${MODEL}@${final.version}`;

    // Each gateway, asked directly (not through nginx), serves the champion; so does the traffic through nginx.
    await waitFor(`both gateways to serve ${label}`, async () => (await Promise.all(gatewayUrls.map(servedVersion))).every((v) => v === label), 20_000, ...services);
    const probe = new AdMarket({ ...MARKET, seed: 12 });
    for (const url of gatewayUrls) expect(await rankDirect(url, probe)).toBe(label);
    await waitFor(`traffic through nginx to be scored by ${label}`, () => trafficRunning() && (driver.stats().versions[label] ?? 0) >= 200, 30_000, ...services);
    stopTraffic.abort();
    const stats = await traffic;
    mark(`both gateways serve ${label}`);

    // Trained from the joined stream: a scheduled run over the traffic's event time, gate passed.
    expect(final.runId).toMatch(/^cron-/);
    expect(final.dataRange!.rows).toBeGreaterThanOrEqual(100);
    expect(final.dataRange!.rows).toBeLessThanOrEqual(stats.impressions);
    expect(final.dataRange!.from).toBeLessThanOrEqual(stats.firstTs!);
    expect(final.dataRange!.to).toBeGreaterThan(stats.firstTs!);
    expect(await runs.getRun(final.runId!)).toMatchObject({ trigger: 'cron', status: 'succeeded', gate: { promoted: true, version: final.version } });
    const history = await registry.aliasHistory(MODEL, 'champion');
    expect(history[0]).toMatchObject({ action: 'set', fromVersion: null });
    expect(history.at(-1)).toMatchObject({ toVersion: final.version });

    // No request failed anywhere, the prior served before the first model, and nginx used both gateways.
    expect(stats.failures).toBe(0);
    expect(Object.keys(stats.statuses)).toEqual(['200']);
    expect(stats.versions[`${MODEL}@prior`]).toBeGreaterThan(0);
    const proxied = nginx.accessLog().filter((l) => l.includes('"POST /v1/'));
    expect(proxied.filter((l) => !/" 200 /.test(l))).toEqual([]);
    const upstreams = new Set(proxied.map((l) => /upstream=(\S+)/.exec(l)?.[1]));
    expect([...upstreams].sort()).toEqual(gatewayUrls.map((u) => new URL(u).host).sort());

    // Every process stops cleanly: SIGTERM (nginx: SIGQUIT) drains, checkpoints and exits 0.
    await nginx.stop();
    const exits = await group.stopAll();
    for (const [name, exit] of exits) expect(exit, `${name} exit`).toEqual({ code: 0, signal: null });
    mark('all stopped');

    const m = driver.metrics(stats.versions[label]);
    console.info(
      `e2e distributed: ${stats.requests} requests, ${stats.impressions} impressions, ${stats.clicks} clicks, rank p50 ${stats.latencyP50Ms.toFixed(1)} ms ` +
        `p99 ${stats.latencyP99Ms.toFixed(1)} ms through nginx; champion ${label} trained on ${final.dataRange!.rows} rows, served AUC ${m.servedAuc.toFixed(3)} ` +
        `(oracle ${m.oracleAuc.toFixed(3)}) on its last ${m.impressions} impressions; ${marks.join(', ')}\n${await runHistory(runs)}`,
    );
  }, 360_000);
});
