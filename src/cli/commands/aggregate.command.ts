import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { PctrError, createLogger, loadConfig, parseDuration, type Config, type Logger } from '../../core/index.ts';
import { createEventLog, type EventLog } from '../../events/index.ts';
import {
  AggregateRunner,
  OfflineSink,
  createOfflineStore,
  createOnlineStore,
  parseOnlineStoreUrl,
  type AggregateProgress,
  type SinkProgress,
} from '../../features/index.ts';

interface AggregateFlags {
  online?: string;
  offline?: string;
  aggregates: boolean;
  sink: boolean;
  snapshots?: string;
  state?: string | false;
  flushInterval: string;
  flushEvents: string;
  checkpointInterval: string;
  priorCtr: string;
  priorWeight: string;
  sinkRows: string;
  sinkInterval: string;
  untilIdle?: boolean;
  progress: string;
  json?: boolean;
}

export function registerAggregateCommand(program: Command): void {
  program
    .command('aggregate')
    .summary('Streaming aggregates → online store, and labeled examples → Parquet offline store')
    .description(
      'Feature store ingestion from the event log. (1) Streaming aggregates: impressions (topic impressions) and clicks ' +
        '(positives of topic examples) → impressions, clicks and smoothed CTR over 1 h and 24 h event-time windows per user, ad, ' +
        'campaign and user×category, flushed to the online store (consumer group "aggregate"; the window state is checkpointed ' +
        'with its offsets, so a restart neither loses nor double-counts). (2) Offline sink: labeled examples (topic examples) → ' +
        'hour-partitioned Parquet files in the offline store (group "offline-store", exactly once on disk). Run one aggregate ' +
        'process per deployment (entities span all partitions). Example: pctr aggregate --online redis://127.0.0.1:6379',
    )
    .option('--online <url>', 'online store: memory: or redis://host:port[/db]?prefix=pctr (default: features.onlineStore, PCTR_ONLINE_STORE)')
    .option('--offline <url>', 'offline store: file:DIR (default: features.offlineStore, PCTR_OFFLINE_STORE)')
    .option('--no-aggregates', 'do not run the streaming aggregates (offline sink only)')
    .option('--no-sink', 'do not run the offline sink (aggregates only)')
    .addOption(new Option('--snapshots [every]', 'also write point-in-time entity snapshots to the offline store, every this much event time').preset('5m'))
    .option('--state <file>', 'window-state checkpoint file (default: <dataDir>/aggregate/state.bin)')
    .option('--no-state', 'keep no window state: commit offsets after each flush and refill the windows after a restart')
    .option('--flush-interval <duration>', 'wall time between online-store flushes', '1s')
    .option('--flush-events <n>', 'flush after this many counted events', '50000')
    .option('--checkpoint-interval <duration>', 'wall time between window-state checkpoints', '10s')
    .option('--prior-ctr <p>', 'CTR prior of the smoothed CTR (clicks + m·p) / (imps + m); what cold entities get', '0.03')
    .option('--prior-weight <m>', 'weight of the prior, in pseudo-impressions', '100')
    .option('--sink-rows <n>', 'offline sink: write a flush after this many examples', '100000')
    .option('--sink-interval <duration>', 'offline sink: or after this much wall time', '30s')
    .option('--until-idle', 'stop (after a final flush and checkpoint) once the input has nothing new')
    .option('--progress <duration>', 'progress line on stderr every this often; 0 = none', '5s')
    .option('--json', 'progress lines as JSON objects on stderr, and the final figures as one JSON object on stdout')
    .action(async (flags: AggregateFlags, cmd: Command) => {
      const config = loadConfig({ file: cmd.optsWithGlobals().config as string | undefined });
      if (!flags.aggregates && !flags.sink) throw new PctrError('PCTR_VALIDATION', 'nothing to do: --no-aggregates and --no-sink together');
      const result = await runAggregate(config, flags);
      process.stdout.write(`${flags.json ? JSON.stringify(result) : summary(result)}\n`);
    });
}

function positive(name: string, raw: string, integer = false): number {
  const v = Number(raw);
  if (!(v > 0) || (integer && !Number.isInteger(v))) throw new PctrError('PCTR_VALIDATION', `--${name} must be a positive ${integer ? 'integer' : 'number'}, got "${raw}"`);
  return v;
}

interface Result {
  aggregates?: AggregateProgress & { eventsPerSec: number };
  sink?: SinkProgress;
}

async function runAggregate(config: Config, flags: AggregateFlags): Promise<Result> {
  const logger = createLogger({ level: config.logLevel, name: 'aggregate' });
  const onlineUrl = flags.online ?? config.features.onlineStore;
  const offlineUrl = flags.offline ?? config.features.offlineStore;
  const priorCtr = positive('prior-ctr', flags.priorCtr);
  if (priorCtr >= 1) throw new PctrError('PCTR_VALIDATION', `--prior-ctr must be below 1, got ${priorCtr}`);
  const prior = { ctr: priorCtr, weight: positive('prior-weight', flags.priorWeight) };
  parseOnlineStoreUrl(onlineUrl);
  if (flags.aggregates && onlineUrl.startsWith('memory:')) {
    logger.warn('online store is memory: — vectors live only inside this process (use redis://… to serve them)');
  }
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  const log: EventLog = await createEventLog(config.events, { logger });
  const needOffline = flags.sink || flags.snapshots !== undefined;
  const offline = needOffline ? createOfflineStore(offlineUrl) : null;
  const online = flags.aggregates ? createOnlineStore(onlineUrl, { readTimeoutMs: config.features.onlineTimeoutMs }) : null;
  const stateFile = flags.state === false ? undefined : (flags.state ?? join(config.dataDir, 'aggregate', 'state.bin'));
  const runner = online
    ? new AggregateRunner({
        log,
        store: online,
        prior,
        stateFile,
        // A memory store starts empty: the restored windows must all be written to it again.
        resync: onlineUrl.startsWith('memory:'),
        flushIntervalMs: parseDuration(flags.flushInterval),
        flushEvents: positive('flush-events', flags.flushEvents, true),
        checkpointIntervalMs: parseDuration(flags.checkpointInterval),
        attributionWindowMs: config.join.attributionWindowMs,
        snapshots: offline && flags.snapshots !== undefined ? { write: (s) => offline.writeSnapshots(s), everyMs: positive('snapshots', String(parseDuration(flags.snapshots))) } : undefined,
        logger,
      })
    : null;
  const sink =
    flags.sink && offline
      ? new OfflineSink({ log, store: offline, dir: offline.dir, maxRows: positive('sink-rows', flags.sinkRows, true), flushIntervalMs: parseDuration(flags.sinkInterval), logger })
      : null;
  const progressMs = parseDuration(flags.progress);
  const rate = eventRate();
  const report = () => {
    const r: Result = { aggregates: runner ? { ...runner.progress(), eventsPerSec: rate(runner.progress().records) } : undefined, sink: sink?.progress() };
    process.stderr.write(`${flags.json ? JSON.stringify({ progress: r }) : summary(r)}\n`);
  };
  const timer = progressMs > 0 ? setInterval(report, progressMs) : undefined;
  try {
    await runner?.start();
    await sink?.start();
    const loops = [runner?.run({ signal: stop.signal, untilIdle: flags.untilIdle }), sink?.run({ signal: stop.signal, untilIdle: flags.untilIdle })];
    // One loop failing stops the other, so the process exits (and a supervisor restarts it from its checkpoints).
    await Promise.all(loops.map((p) => p?.catch((e: unknown) => (stop.abort(), Promise.reject(e)))));
    return { aggregates: runner ? { ...runner.progress(), eventsPerSec: rate(runner.progress().records) } : undefined, sink: sink?.progress() };
  } finally {
    if (timer) clearInterval(timer);
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    await closeAll(logger, [runner, sink, online, offline, log]);
  }
}

async function closeAll(logger: Logger, things: ({ close(): Promise<void> } | null | undefined)[]): Promise<void> {
  for (const t of things) {
    try {
      await t?.close();
    } catch (e) {
      logger.warn({ err: e }, 'aggregate: close failed');
    }
  }
}

/** Records per second since the previous call. */
function eventRate(): (records: number) => number {
  let last = { t: performance.now(), n: 0 };
  return (records) => {
    const now = performance.now();
    const r = now > last.t ? ((records - last.n) * 1000) / (now - last.t) : 0;
    last = { t: now, n: records };
    return r;
  };
}

const k = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e4 ? `${(n / 1e3).toFixed(1)}k` : String(Math.round(n)));

function summary(r: Result): string {
  const parts: string[] = [];
  const a = r.aggregates;
  if (a) {
    const e = a.entities;
    const time = Number.isFinite(a.eventTime) ? new Date(a.eventTime).toISOString().slice(0, 19) : '-';
    parts.push(
      `aggregate ${k(a.eventsPerSec)} rec/s | impressions ${k(a.impressions)} clicks ${k(a.clicks)} invalid ${k(a.invalid)} late ${k(a.late)} | ` +
        `entities user ${k(e.user)} ad ${k(e.ad)} campaign ${k(e.campaign)} user×category ${k(e.user_category)} | ` +
        `flushed ${k(a.flushedRows)} rows in ${a.flushes} flushes (${a.flushErrors} failed) | snapshots ${k(a.snapshotRows)} | event time ${time}`,
    );
  }
  const s = r.sink;
  if (s) parts.push(`offline sink: ${k(s.written)} examples in ${s.flushes} flushes, buffered ${k(s.buffered)}, invalid ${k(s.invalid)}`);
  return parts.join(' || ');
}
