/**
 * `pctr start --workers N`: the embedded system in a primary process, N gateway processes in front
 * of it under node:cluster, sharing the listen port. The primary keeps the state — the file event
 * log (one writer per partition), the join, the aggregates and the memory online store, the
 * registry, training, the monitor — and serves the dashboard and the admin API on a port of its
 * own; the workers rank (gateway-worker.ts) with a replica of the online store, and append their
 * impressions and clicks through the primary. The simulator's traffic (--sim) runs in a thread of
 * the primary against the shared port. The end: the simulator stops, the workers drain (requests
 * finished, impressions appended), then the primary closes (checkpoints) and prints the summary,
 * with what each worker served.
 */
import { writeFileSync } from 'node:fs';
import { PctrError, createLogger, systemClock } from '../core/index.ts';
import { MemoryOnlineStore } from '../features/index.ts';
import { EmbeddedSystem, type SystemStatus } from './embedded-system.ts';
import { GatewayWorkers, type WorkerRecord } from './gateway-workers.ts';
import { ReplicatedStore } from './replicated-store.ts';
import { clientKey, simEventStart, startSimTraffic, watch, withStartLogFile, type StartOptions } from './run-start.ts';
import { ClockRef, clockOf, simClockSpec } from './sim-clock.ts';
import type { SimTraffic } from './sim-traffic.ts';
import { workersMetricsRoute } from './workers-metrics.route.ts';
import { buildSummary, summaryText, type RunSummary } from './summary.ts';

export interface ClusterOptions extends StartOptions {
  readonly workers: number;
}

/** What one gateway worker served, in the summary. */
export interface WorkerSummary {
  readonly pid: number;
  readonly rank_requests: number;
  readonly impressions_logged: number;
  readonly impressions_dropped: number;
  readonly impressions_by_version: Readonly<Record<string, number>>;
  readonly model_version: string | null;
  /** 'drained', or how it crashed; null if it was still running (should not happen). */
  readonly exit: string | null;
}

export interface ClusterSummary extends RunSummary {
  /** Impressions the workers appended to the primary's log (all of them: `impressions` when none was lost). */
  readonly impressions_logged: number;
  readonly workers: readonly WorkerSummary[];
  readonly worker_restarts: number;
}

export async function runCluster(opts: ClusterOptions): Promise<ClusterSummary> {
  if (!Number.isInteger(opts.workers) || opts.workers < 1) throw new PctrError('PCTR_VALIDATION', `--workers must be an integer ≥ 1 (got ${opts.workers})`);
  // The workers (and the parts' threads) inherit the variable and log to the same file.
  return withStartLogFile(opts, (logFile) => run(opts, logFile));
}

async function run(opts: ClusterOptions, logFile: string | null): Promise<ClusterSummary> {
  const { config, out } = opts;
  const logger = createLogger({ level: config.logLevel, name: 'start' });
  const startedAt = new Date();
  const clock = new ClockRef(systemClock);
  const host = config.gateway.host;
  let replicated: ReplicatedStore | null = null;
  // The primary's own gateway (admin API, dashboard, /metrics of the primary) listens on a free port of its own.
  const system = await EmbeddedSystem.open({
    config,
    logger,
    clock,
    learnerParams: opts.learnerParams,
    trainEveryMs: opts.trainEveryMs,
    dashboard: opts.dashboard,
    host,
    port: 0,
    plugins: [workersMetricsRoute()],
    aggregatesStore: (store) => (store instanceof MemoryOnlineStore ? (replicated = new ReplicatedStore(store)) : store),
  });
  let eventStart = clock.now();
  if (opts.sim) eventStart = simEventStart(opts.sim, system.lastEventTime());
  const spec = opts.sim ? simClockSpec(eventStart, opts.sim.speed) : null;
  if (spec) clock.target = clockOf(spec);
  const workers = new GatewayWorkers({ config, host, port: config.gateway.port, log: system.log, store: replicated, clock, logger, notice: (line) => out.write(`${line}\n`) });
  let traffic: SimTraffic | null = null;
  try {
    const port = await workers.start(opts.workers);
    const address = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    if (opts.sim && spec) {
      traffic = startSimTraffic(opts.sim, config, address, spec);
    }
    out.write(banner(opts, address, system.address, logFile, workers.all()));
    const status = (): SystemStatus => {
      const t = workers.totals();
      return { ...system.status(), impressionsLogged: t.logged, impressionsDropped: t.dropped };
    };
    const reason = await watch(opts, { status }, traffic, eventStart, clock);
    out.write(`stopping (${reason}): draining the gateway workers, checkpointing the join and aggregates…\n`);
    const report = (await traffic?.stop()) ?? null;
    traffic = null;
    await workers.drain();
    const summary = await buildSummary({
      traffic: report,
      status: status(),
      registry: system.registry,
      modelName: config.registry.modelName,
      startedAt,
      wallSeconds: (Date.now() - startedAt.getTime()) / 1000,
      eventStart,
      eventEnd: report?.simTs ?? clock.now(),
    });
    await system.close();
    const result: ClusterSummary = { ...summary, impressions_logged: workers.totals().logged, workers: workers.all().map(workerSummary), worker_restarts: workers.restarts };
    if (opts.summaryJson) writeFileSync(opts.summaryJson, `${JSON.stringify(result, null, 2)}\n`);
    out.write(`${summaryText(result)}\n${workersText(result)}\n`);
    return result;
  } catch (e) {
    await traffic?.stop();
    await workers.drain();
    await system.close();
    throw e;
  }
}

function workerSummary(r: WorkerRecord): WorkerSummary {
  const s = r.stats;
  return {
    pid: r.pid,
    rank_requests: s?.rankRequests ?? 0,
    impressions_logged: s?.impressionsLogged ?? 0,
    impressions_dropped: s?.impressionsDropped ?? 0,
    impressions_by_version: s?.versions ?? {},
    model_version: s?.model ?? null,
    exit: r.exit,
  };
}

function workersText(s: ClusterSummary): string {
  const lines = s.workers.map(
    (w) =>
      `  worker ${w.pid}: ${w.rank_requests} rank requests, ${w.impressions_logged} impressions logged` +
      `${w.impressions_dropped > 0 ? ` (${w.impressions_dropped} dropped)` : ''}, serving ${w.model_version ?? '-'}; ${w.exit ?? 'running'}`,
  );
  if (s.worker_restarts > 0) lines.push(`  ${s.worker_restarts} worker restarts`);
  return lines.join('\n');
}

function banner(opts: ClusterOptions, address: string, primary: string, logFile: string | null, workers: readonly WorkerRecord[]): string {
  const { config } = opts;
  const lines = [
    `pctr start: ${workers.length} gateway workers (pids ${workers.map((w) => w.pid).join(', ')}) on ${address} (POST /v1/rank, /v1/events; /metrics per worker), state in ${config.dataDir}`,
    `primary: ${primary} (admin API, /metrics; /metrics/workers: the workers' metrics summed)` +
      (opts.dashboard ? `; dashboard ${primary}/dashboard/ (API key ${clientKey(config)})` : ''),
  ];
  if (logFile) lines.push(`logs: ${logFile}`);
  if (opts.sim) {
    const s = opts.sim;
    lines.push(
      `simulator: ${s.requestRate} requests per simulated second, k=${s.k}, ${s.concurrency} connections, ${s.speed === 'max' ? 'as fast as the gateways answer' : `${s.speed}× real time`}` +
        `${Number.isFinite(s.impressions) ? `, ${s.impressions} impressions` : ''}`,
    );
  }
  lines.push(`Ctrl-C stops (gracefully; twice: at once)${opts.durationMs ? `; stopping by itself after ${opts.durationMs / 1000} s` : ''}`);
  return `${lines.join('\n')}\n`;
}
