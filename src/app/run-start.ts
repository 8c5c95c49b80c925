/**
 * `pctr start` from open to summary: the embedded system, with --sim the simulator's traffic on
 * its own HTTP port, the live view, and the end of the run — Ctrl-C / SIGTERM, --duration, or the
 * simulator's impressions all served — followed by a graceful close and the summary.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PctrError, createLogger, systemClock, type Config, type Logger } from '../core/index.ts';
import type { MarketOptionsInput } from '../sim/index.ts';
import { EmbeddedSystem } from './embedded-system.ts';
import { ClockRef, clockOf, simClockSpec, type SimClockSpec } from './sim-clock.ts';
import { SimTraffic, type TrafficReport } from './sim-traffic.ts';
import { buildSummary, summaryText, type RunSummary } from './summary.ts';
import { TerminalView, type TerminalOut } from './terminal-view.ts';

export interface SimSettings {
  /** Simulated time per wall time, or 'max': as fast as the gateway answers. */
  readonly speed: number | 'max';
  /** Simulated time the traffic starts at (default: now). */
  readonly start?: number;
  /** Rank requests per simulated second. */
  readonly requestRate: number;
  readonly k: number;
  readonly concurrency: number;
  /** Stop after this many impressions (Infinity: until stopped). */
  readonly impressions: number;
  readonly window: number;
  readonly market: MarketOptionsInput;
}

export interface StartOptions {
  readonly config: Config;
  readonly sim: SimSettings | null;
  /** Wall time to run before stopping (null: until stopped or the simulator is done). */
  readonly durationMs: number | null;
  readonly summaryJson: string | null;
  readonly learnerParams: Readonly<Record<string, unknown>>;
  readonly trainEveryMs: number;
  readonly dashboard: boolean;
  readonly out: TerminalOut;
  /** Resolves when the run should stop (default: SIGINT or SIGTERM). */
  readonly stopSignal?: Promise<string>;
}

/** The first client key of the config, which the simulator's users send. */
export function clientKey(config: Config): string {
  const k = config.gateway.apiKeys.find((x) => x.role === 'client') ?? config.gateway.apiKeys[0];
  if (!k) throw new PctrError('PCTR_CONFIG_INVALID', 'gateway.apiKeys (PCTR_API_KEYS) has no key: the simulator needs a client key to send traffic');
  return k.key;
}

/** Resolves on the first SIGINT or SIGTERM; a second one exits at once. */
export function untilStopSignal(logger: Logger): Promise<string> {
  return new Promise((resolve) => {
    const first = (signal: NodeJS.Signals) => {
      process.off('SIGINT', first);
      process.off('SIGTERM', first);
      const again = () => {
        logger.warn('second signal: exiting without a graceful stop');
        process.exit(130);
      };
      process.once('SIGINT', again);
      process.once('SIGTERM', again);
      resolve(signal);
    };
    process.on('SIGINT', first);
    process.on('SIGTERM', first);
  });
}

/**
 * Where the run's logs go: the configured file, else, while the live view redraws a terminal, a
 * file under the data dir (JSON lines on the same terminal would scroll the view away), else stderr.
 */
export function startLogFile(config: Config, out: TerminalOut): string | null {
  if (config.logFile) return config.logFile;
  return out.isTTY === true ? join(config.dataDir, 'pctr.log') : null;
}

/**
 * Runs `body` with the run's log file (see startLogFile) in PCTR_LOG_FILE, so that threads and
 * processes started meanwhile (the parts, training, cluster workers) log to the same file.
 */
export async function withStartLogFile<T>(opts: StartOptions, body: (logFile: string | null) => Promise<T>): Promise<T> {
  const logFile = startLogFile(opts.config, opts.out);
  const previousLogFile = process.env.PCTR_LOG_FILE;
  if (logFile) process.env.PCTR_LOG_FILE = logFile;
  try {
    return await body(logFile);
  } finally {
    if (previousLogFile === undefined) delete process.env.PCTR_LOG_FILE;
    else process.env.PCTR_LOG_FILE = previousLogFile;
  }
}

/** The simulator's users sending `sim`'s traffic to the gateway at `baseUrl`, on the event clock `spec`. */
export function startSimTraffic(sim: SimSettings, config: Config, baseUrl: string, spec: SimClockSpec): SimTraffic {
  return SimTraffic.start({
    baseUrl,
    apiKey: clientKey(config),
    clock: spec,
    market: sim.market,
    requestRate: sim.requestRate,
    k: sim.k,
    concurrency: sim.concurrency,
    impressions: sim.impressions,
    window: sim.window,
    recent: Math.min(sim.window, 5_000),
    reportEveryMs: 500,
  });
}

/**
 * Where the simulated traffic's event time starts: `--start` or now, but never before where an
 * earlier run on this data dir left it (a minute past its last event): the join's watermark is there.
 */
export function simEventStart(sim: SimSettings, lastEventTime: number | null): number {
  return Math.max(sim.start ?? Date.now(), lastEventTime === null ? 0 : lastEventTime + 60_000);
}

export async function runStart(opts: StartOptions): Promise<RunSummary> {
  return withStartLogFile(opts, (logFile) => run(opts, logFile));
}

async function run(opts: StartOptions, logFile: string | null): Promise<RunSummary> {
  const { config, out } = opts;
  const logger = createLogger({ level: config.logLevel, name: 'start' });
  const startedAt = new Date();
  const clock = new ClockRef(systemClock);
  const system = await EmbeddedSystem.open({
    config,
    logger,
    clock,
    learnerParams: opts.learnerParams,
    trainEveryMs: opts.trainEveryMs,
    dashboard: opts.dashboard,
    host: config.gateway.host,
    port: config.gateway.port,
  });
  let traffic: SimTraffic | null = null;
  let eventStart = clock.now();
  try {
    if (opts.sim) {
      eventStart = simEventStart(opts.sim, system.lastEventTime());
      const spec = simClockSpec(eventStart, opts.sim.speed);
      clock.target = clockOf(spec);
      traffic = startSimTraffic(opts.sim, config, system.address, spec);
    }
    out.write(banner(opts, system.address, config, logFile));
    const reason = await watch(opts, system, traffic, eventStart, clock);
    out.write(`stopping (${reason}): draining requests, checkpointing the join and aggregates…\n`);
    const report = (await traffic?.stop()) ?? null;
    const summary = await buildSummary({
      traffic: report,
      status: system.status(),
      registry: system.registry,
      modelName: config.registry.modelName,
      startedAt,
      wallSeconds: (Date.now() - startedAt.getTime()) / 1000,
      eventStart,
      eventEnd: report?.simTs ?? clock.now(),
    });
    await system.close();
    if (opts.summaryJson) writeFileSync(opts.summaryJson, `${JSON.stringify(summary, null, 2)}\n`);
    out.write(`${summaryText(summary)}\n`);
    return summary;
  } catch (e) {
    await traffic?.stop();
    await system.close();
    throw e;
  }
}

function banner(opts: StartOptions, address: string, config: Config, logFile: string | null): string {
  const lines = [`pctr start: gateway ${address} (POST /v1/rank, /v1/events; /metrics, /docs/json), state in ${config.dataDir}`];
  if (logFile) lines.push(`logs: ${logFile}`);
  if (opts.dashboard) lines.push(`dashboard: ${address}/dashboard/ (API key ${clientKey(config)})`);
  if (opts.sim) {
    const s = opts.sim;
    lines.push(
      `simulator: ${s.requestRate} requests per simulated second, k=${s.k}, ${s.speed === 'max' ? 'as fast as the gateway answers' : `${s.speed}× real time`}` +
        `${Number.isFinite(s.impressions) ? `, ${s.impressions} impressions` : ''}; served pCTR vs the oracle over the last ${s.window} impressions`,
    );
  }
  lines.push(`Ctrl-C stops (gracefully; twice: at once)${opts.durationMs ? `; stopping by itself after ${opts.durationMs / 1000} s` : ''}`);
  return `${lines.join('\n')}\n`;
}

/** Draws the view until the run should end; resolves with why it ended. */
export async function watch(opts: StartOptions, system: Pick<EmbeddedSystem, 'status'>, traffic: SimTraffic | null, eventStart: number, clock: ClockRef): Promise<string> {
  const view = new TerminalView(opts.out);
  const t0 = performance.now();
  let last = { at: t0, requests: 0 };
  const frame = () => {
    const report: TrafficReport | null = traffic?.report() ?? null;
    const now = performance.now();
    const requests = report?.stats.requests ?? 0;
    const rate = ((requests - last.requests) * 1000) / Math.max(1, now - last.at);
    last = { at: now, requests };
    view.frame({ status: system.status(), traffic: report, requestsPerSec: rate, eventNow: report?.simTs ?? clock.now(), eventStart, wallSeconds: (now - t0) / 1000 });
  };
  const timer = setInterval(frame, view.interactive ? 500 : 1_000);
  const ends: Promise<string>[] = [opts.stopSignal ?? untilStopSignal(createLogger({ level: opts.config.logLevel }))];
  let durationTimer: NodeJS.Timeout | undefined;
  if (opts.durationMs !== null) ends.push(new Promise((r) => (durationTimer = setTimeout(() => r(`--duration ${opts.durationMs! / 1000} s reached`), opts.durationMs!))));
  if (traffic) ends.push(traffic.done.then(() => 'the simulator served its impressions', (e: Error) => Promise.reject(e)));
  try {
    return await Promise.race(ends);
  } finally {
    clearInterval(timer);
    clearTimeout(durationTimer);
    frame();
    view.release();
  }
}
