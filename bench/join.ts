/**
 * `npm run bench:join [-- --impressions 300000 --runs 3 --backends file,redis --latency on|off --speed 600 --redis URL --json]`
 *
 * Simulated traffic (30-min attribution window, 50 impressions/s of event time, so the stream spans
 * several windows and the join holds ~90k pending impressions) through the event log and the join,
 * for the file and redis backends, deployed as in production: a producer process appends while the
 * join worker (this process) joins with a checkpoint every second. The log runs with the default
 * `events` settings of the config (fsync `interval`, 200 ms; 64 MiB segments), 8 partitions.
 * - throughput: events (impressions + clicks) per wall second from the first append until the join
 *   has committed the last label, and per CPU second of the producer and the join together (the
 *   per-core figure, which other load on the machine barely moves); median of `--runs`;
 * - label latency with the producer paced at `--speed`× event time (well below capacity), the join
 *   running live: positive = commit of the example − append of its click; negative = commit − append
 *   of the first event past window end + out-of-orderness bound (when the watermark could first pass);
 *   `--latency off` skips these runs (when profiling throughput);
 * - for reference, redis-benchmark's pipelined XADD rate with an impression-sized payload.
 * `--json` adds one JSON object on the last line (file_events_per_s, redis_events_per_s,
 * redis_xadd_per_s, positive_latency_p99_ms, negative_latency_p99_ms, and per backend the rest).
 * Profiling: `node --cpu-prof --import tsx bench/join.ts --runs 1 --latency off` profiles the producer
 * process too (it inherits node's flags).
 *
 * The producer's records are generated before it starts appending, and made flat strings as a
 * gateway's JSON.stringify would give (the simulator builds them as rope strings, which costs
 * whoever first reads them several µs each): the benchmark measures the log and the join, not the
 * generator.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { loadConfig, type Config } from '../src/core/index.ts';
import { createEventLog, type AppendRecord, type EventLog } from '../src/events/index.ts';
import { JoinWorker, readTs, type CommitReport, type JoinStats } from '../src/join/index.ts';
import { generateEventRecords } from '../src/sim/index.ts';
import { flag, fmt, hasFlag, median, percentile, printJson, printTable } from './lib/report.ts';

const IMPRESSIONS = Number(flag('impressions', '300000'));
const RUNS = Number(flag('runs', '3'));
const SPEED = Number(flag('speed', '600'));
const BACKENDS = flag('backends', 'file,redis').split(',');
const LATENCY = flag('latency', 'on') !== 'off';
const REDIS = flag('redis', process.env.PCTR_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
const PARTITIONS = 8;
const WINDOW = { attributionWindowMs: 30 * 60_000, maxOutOfOrdernessMs: 10_000, lateClickHorizonMs: 30 * 60_000 };
const ALL = Array.from({ length: PARTITIONS }, (_, p) => p);

interface Batch {
  impressions: AppendRecord[];
  clicks: AppendRecord[];
}

/** The simulated traffic, with every value a flat string. */
function generate(batchSize: number, impressions = IMPRESSIONS): Batch[] {
  const batches = [...generateEventRecords({ seed: 7, impressions, ratePerSec: 50, windowMs: WINDOW.attributionWindowMs, batchSize })];
  // Number() reads a whole string, which makes V8 flatten a rope in place (JSON objects parse to NaN).
  let numeric = 0;
  for (const b of batches) for (const r of [...b.impressions, ...b.clicks]) if (!Number.isNaN(Number(r.value))) numeric++;
  if (numeric > 0) throw new Error(`${numeric} generated records are not JSON objects`);
  return batches;
}

function countEvents(batches: readonly Batch[]): number {
  return batches.reduce((n, b) => n + b.impressions.length + b.clicks.length, 0);
}

function cpuSeconds(since: NodeJS.CpuUsage): number {
  const c = process.cpuUsage(since);
  return (c.user + c.system) / 1e6;
}

/** The default event-log settings (not the environment's), on `url`. */
function settingsFor(url: string): Config['events'] {
  return { ...loadConfig({ env: {} }).events, url, partitions: PARTITIONS };
}

// ---- producer process: `--role producer --url <events url>`; appends everything on "go", reports its CPU time.

interface ProducerReport {
  cpuSec: number;
}

async function producer(): Promise<void> {
  const batches = generate(8192);
  const log = await createEventLog(settingsFor(flag('url', '')));
  const events = countEvents(batches);
  process.stdout.write(`ready ${events} ${events - IMPRESSIONS}\n`);
  await new Promise((resolve) => createInterface({ input: process.stdin }).once('line', resolve));
  const cpu0 = process.cpuUsage();
  for (const b of batches) {
    await log.append('impressions', b.impressions);
    await log.append('clicks', b.clicks);
  }
  await log.close();
  const report: ProducerReport = { cpuSec: cpuSeconds(cpu0) };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

interface Producing {
  events: number;
  clicks: number;
  /** Start appending. */
  go: () => void;
  done: Promise<ProducerReport>;
}

/** Start a producer process; resolves once it has generated its records and waits for `go()`. */
async function startProducer(url: string): Promise<Producing> {
  // The parent's node flags (`--import tsx`, and `--cpu-prof` when profiling) apply to the producer too.
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--role', 'producer', '--url', url, '--impressions', String(IMPRESSIONS)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`producer exited with ${code}`))));
  exited.catch(() => undefined);
  const next = () => Promise.race([new Promise<string>((resolve) => lines.once('line', resolve)), exited]);
  const [word, events, clicks] = (await next()).split(' ');
  if (word !== 'ready') throw new Error(`producer: ${word}`);
  return { events: Number(events), clicks: Number(clicks), go: () => child.stdin.end('go\n'), done: next().then((l) => JSON.parse(l) as ProducerReport) };
}

// ---- the measurements

interface Backend {
  url: string;
  cleanup: () => Promise<void>;
}

async function openBackend(kind: string): Promise<Backend> {
  if (kind === 'file') {
    const dir = mkdtempSync(join(tmpdir(), 'pctr-bench-join-'));
    return { url: `file:${dir}`, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const prefix = `benchjoin${process.pid}x${Math.floor(Math.random() * 1e9)}`;
  return { url: `${REDIS}?prefix=${prefix}`, cleanup: () => dropPrefix(prefix) };
}

async function dropPrefix(prefix: string): Promise<void> {
  const r = new Redis(REDIS);
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

async function openJoin(log: EventLog, onCommit?: (c: CommitReport) => void): Promise<JoinWorker> {
  return JoinWorker.open(log, { ...WINDOW, partitions: ALL, checkpointIntervalMs: 1000, idleTimeoutMs: 2000, onCommit });
}

interface ThroughputRun {
  events: number;
  eventsPerSec: number;
  /** Per CPU second of the producer and the join processes together. */
  eventsPerCpuSec: number;
  producerPerCpuSec: number;
  joinPerCpuSec: number;
  stats: JoinStats;
  restoreMs: number;
  replayed: number;
}

async function throughput(kind: string): Promise<ThroughputRun> {
  const backend = await openBackend(kind);
  const log = await createEventLog(settingsFor(backend.url));
  try {
    const producing = await startProducer(backend.url);
    const { events, clicks } = producing;
    const worker = await openJoin(log);
    const stop = new AbortController();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    producing.go();
    const running = worker.run({ signal: stop.signal });
    const produced = await producing.done;
    // Stop once every event is joined (the run's last checkpoint commits the final labels).
    while (!stop.signal.aborted) {
      const s = worker.stats();
      if (s.impressions >= IMPRESSIONS && s.clicks >= clicks && s.heldClicks === 0) stop.abort();
      else await new Promise((r) => setTimeout(r, 5));
    }
    const stats = await running;
    await worker.close();
    const wall = (performance.now() - t0) / 1000;
    const joinCpu = cpuSeconds(cpu0);
    // A restart from the last checkpoint: its cost is replaying the impressions still held.
    const restarted = await openJoin(log);
    const restart = restarted.stats();
    await restarted.close();
    return {
      events,
      eventsPerSec: events / wall,
      eventsPerCpuSec: events / (produced.cpuSec + joinCpu),
      producerPerCpuSec: events / produced.cpuSec,
      joinPerCpuSec: events / joinCpu,
      stats,
      restoreMs: restart.restoreMs,
      replayed: restart.replayedImpressions,
    };
  } finally {
    await log.close();
    await backend.cleanup();
  }
}

interface Latency {
  positive: Float64Array;
  negative: Float64Array;
}

/** Index of the first timeline entry whose newest event time reaches `ts`, or -1. */
function firstReaching(maxTs: readonly number[], ts: number): number {
  let lo = 0;
  let hi = maxTs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (maxTs[mid] >= ts) hi = mid;
    else lo = mid + 1;
  }
  return lo < maxTs.length ? lo : -1;
}

/** Newest event time in a batch (each list is in event-time order). */
function batchMaxTs(b: Batch): number {
  let m = -Infinity;
  if (b.impressions.length) m = readTs(b.impressions[b.impressions.length - 1].value);
  if (b.clicks.length) m = Math.max(m, readTs(b.clicks[b.clicks.length - 1].value));
  return m;
}

async function latency(kind: string, batches: readonly Batch[]): Promise<Latency> {
  const backend = await openBackend(kind);
  const log = await createEventLog(settingsFor(backend.url));
  const wallAt: number[] = [];
  const maxTs: number[] = [];
  const positive: number[] = [];
  const negative: number[] = [];
  const readyAfter = WINDOW.attributionWindowMs + WINDOW.maxOutOfOrdernessMs;
  let afterCommit = () => {};
  const onCommit = (c: CommitReport) => {
    afterCommit();
    for (let k = 0; k < c.examples.length; k++) {
      const v = c.examples.value(k);
      const label = v.charCodeAt(v.lastIndexOf('"label":') + 8) - 48;
      const eventTs = label === 1 ? Number(v.slice(v.lastIndexOf('"clickTs":') + 10, -1)) : readTs(v) + readyAfter + 1;
      const i = firstReaching(maxTs, eventTs);
      if (i >= 0) (label === 1 ? positive : negative).push(c.at - wallAt[i]);
    }
  };
  try {
    const worker = await openJoin(log, onCommit);
    const stop = new AbortController();
    const running = worker.run({ signal: stop.signal });
    const startTs = readTs(batches[0].impressions[0].value);
    const start = performance.now();
    for (const b of batches) {
      const last = batchMaxTs(b);
      const due = start + (last - startTs) / SPEED;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (b.impressions.length) await log.append('impressions', b.impressions);
      if (b.clicks.length) await log.append('clicks', b.clicks);
      wallAt.push(performance.now());
      maxTs.push(last);
    }
    while (worker.stats().impressions < IMPRESSIONS || worker.stats().heldClicks > 0) await new Promise((r) => setTimeout(r, 20));
    // Stop after the next regular checkpoint, so no label waits for the shutdown commit.
    await new Promise<void>((resolve) => (afterCommit = resolve));
    stop.abort();
    await running;
    await worker.close();
    return { positive: Float64Array.from(positive), negative: Float64Array.from(negative) };
  } finally {
    await log.close();
    await backend.cleanup();
  }
}

function redisXadd(payload: string): number {
  const url = new URL(REDIS);
  const key = `benchjoin:xadd:${process.pid}`;
  const out = execFileSync('redis-benchmark', ['-h', url.hostname, '-p', url.port || '6379', '-n', '300000', '-P', '16', '-q', 'XADD', key, '*', 'v', payload], { encoding: 'utf8' });
  execFileSync('redis-cli', ['-h', url.hostname, '-p', url.port || '6379', 'DEL', key]);
  const rates = [...out.matchAll(/([\d.]+) requests per second/g)];
  return Number(rates.at(-1)?.[1] ?? NaN);
}

async function main(): Promise<void> {
  // The traffic is generated by the producer processes, and for the latency runs after the throughput ones, so
  // this process (the join's) holds none of it while throughput is measured.
  const payload = generate(256, 10)[0].impressions[0].value;
  // Other processes on the machine skew wall-clock rates; the load and the CPU-time rate say how much.
  process.stderr.write(`bench:join: ${IMPRESSIONS} impressions, ${payload.length}-byte impressions, ${PARTITIONS} partitions, load ${loadavg()[0].toFixed(1)}\n`);

  const figures: Record<string, number> = { impressions: IMPRESSIONS, load_avg_1m: loadavg()[0] };
  const rows: string[][] = [];
  for (const kind of BACKENDS) {
    const runs: ThroughputRun[] = [];
    for (let i = 0; i < RUNS; i++) {
      runs.push(await throughput(kind));
      const r = runs[i];
      process.stderr.write(`  ${kind} run ${i + 1}: ${fmt(r.eventsPerSec)} events/s, ${fmt(r.eventsPerCpuSec)} per cpu-s (producer ${fmt(r.producerPerCpuSec)}, join ${fmt(r.joinPerCpuSec)}; load ${loadavg()[0].toFixed(1)})\n`);
    }
    figures.events = runs[0].events;
    const lat = LATENCY ? await latency(kind, generate(256)) : { positive: new Float64Array(0), negative: new Float64Array(0) };
    const mid = runs.find((r) => r.eventsPerSec === median(runs.map((x) => x.eventsPerSec))) ?? runs[0];
    const f = {
      events_per_s: median(runs.map((r) => r.eventsPerSec)),
      impressions_per_s: median(runs.map((r) => r.eventsPerSec * (IMPRESSIONS / r.events))),
      events_per_cpu_s: median(runs.map((r) => r.eventsPerCpuSec)),
      producer_events_per_cpu_s: median(runs.map((r) => r.producerPerCpuSec)),
      join_events_per_cpu_s: median(runs.map((r) => r.joinPerCpuSec)),
      checkpoint_ms: mid.stats.lastCheckpointMs,
      checkpoint_state_bytes: mid.stats.maxStateBytes,
      restart_ms: mid.restoreMs,
      restart_replayed: mid.replayed,
      pending: mid.stats.pending,
      positive_latency_p50_ms: percentile(lat.positive, 0.5),
      positive_latency_p99_ms: percentile(lat.positive, 0.99),
      negative_latency_p50_ms: percentile(lat.negative, 0.5),
      negative_latency_p99_ms: percentile(lat.negative, 0.99),
    };
    for (const [k, v] of Object.entries(f)) figures[`${kind}_${k}`] = Math.round(v * 10) / 10;
    rows.push([
      kind,
      fmt(f.events_per_s),
      fmt(f.impressions_per_s),
      fmt(f.events_per_cpu_s),
      `${fmt(f.producer_events_per_cpu_s)} / ${fmt(f.join_events_per_cpu_s)}`,
      `${fmt(f.checkpoint_ms)} / ${fmt(f.checkpoint_state_bytes / 1024)}KB`,
      `${fmt(f.restart_ms)} / ${fmt(f.restart_replayed)}`,
      `${fmt(f.positive_latency_p50_ms)} / ${fmt(f.positive_latency_p99_ms)}`,
      `${fmt(f.negative_latency_p50_ms)} / ${fmt(f.negative_latency_p99_ms)}`,
    ]);
  }
  if (BACKENDS.includes('redis')) {
    const xadd = redisXadd(payload);
    figures.redis_xadd_per_s = Math.round(xadd);
    rows.push(['redis-benchmark XADD -P 16', fmt(xadd), '', '', '', '', '', '', '']);
  }
  // The acceptance names: the file backend's latency stands for the join's.
  const lead = BACKENDS.includes('file') ? 'file' : BACKENDS[0];
  figures.positive_latency_p99_ms = figures[`${lead}_positive_latency_p99_ms`];
  figures.negative_latency_p99_ms = figures[`${lead}_negative_latency_p99_ms`];

  printTable(
    `join: producer process appending, join worker joining with 1 s checkpoints, median of ${RUNS} (events = impressions + clicks; per cpu-s = producer + join CPU; latency in wall ms at ${SPEED}× event time)`,
    ['backend', 'events/s', 'impressions/s', 'events/cpu-s', 'producer / join ev/cpu-s', 'checkpoint ms / state', 'restart ms / replayed', 'positive p50 / p99 ms', 'negative p50 / p99 ms'],
    rows,
  );
  if (BACKENDS.includes('file')) process.stdout.write(`file backend: ${fmt(figures.file_events_per_cpu_s)} events per cpu-s (goal ≥ 150k)\n`);
  if (BACKENDS.includes('redis') && figures.redis_events_per_s) {
    process.stdout.write(`redis backend: ${(figures.redis_xadd_per_s / figures.redis_events_per_s).toFixed(2)}× below raw XADD (goal ≤ 3×)\n`);
  }
  if (hasFlag('json')) printJson(figures);
}

if (flag('role', 'main') === 'producer') await producer();
else await main();
