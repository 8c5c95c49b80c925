import { type Command, InvalidArgumentError, Option } from 'commander';
import cliProgress from 'cli-progress';
import { type Config, formatDuration, loadConfig, parseDuration, PctrError, SimulatedClock, TOPICS } from '../../core/index.ts';
import { createEventLog } from '../../events/index.ts';
import { type ContextShift, DEFAULT_EXPORT_CTR, EventGenerator, EXPORT_FORMATS, exportDataset, type ExportFormat, type GeneratorStats } from '../../sim/index.ts';

interface SimFlags {
  seed: number;
  baseCtr?: number;
  export?: ExportFormat;
  rows: number;
  out?: string;
  oracleOut?: string;
  days: number;
  impressions: number;
  rate: number;
  speed: number | 'max';
  realtime?: boolean;
  start?: number;
  window?: number;
  users: number;
  ads: number;
  drift: boolean;
  qualityDecay: number;
  coldAds: number;
  tasteTimescale: number;
  shift: ContextShift | null;
  duplicateRate: number;
  unknownClickRate: number;
  idPrefix?: string;
}

const EXAMPLES = `
Examples:
  $ pctr sim --impressions 200000 --speed max     # 200k impressions (and their clicks) into the event log, as fast as possible
  $ pctr sim --realtime --rate 50 --impressions 1e6  # a live market: 50 impressions per wall second (stop with Ctrl-C)
  $ pctr sim --export criteo --rows 1000000 --out /tmp/criteo.tsv.gz --oracle-out /tmp/criteo.oracle
  $ pctr sim --export avazu --rows 500000 --out /tmp/avazu.csv --base-ctr 0.17

Events mode writes JSON impressions (topic "impressions", with the true CTR in oracleCtr, never a
model feature) and clicks (topic "clicks") keyed by impressionId, in event-time order. Clicks come
after a heavy-tailed delay; ~1.5 % arrive after the attribution window, a few are duplicated, and a
few name impressions that never existed. The same --seed and --start give the same events.`;

const int = (min: number) => (v: string) => {
  const n = Number(v.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`must be an integer ≥ ${min}`);
  return n;
};
const fraction = (min: number, max: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new InvalidArgumentError(`must be a number in [${min}, ${max}]`);
  return n;
};
const positive = (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a number > 0');
  return n;
};
const speed = (v: string) => (v === 'max' ? 'max' : positive(v));
/** An ISO 8601 time or epoch milliseconds (`--start`, here and in `pctr start`). */
export const time = (v: string) => {
  const n = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('must be an ISO 8601 time (2024-01-01T00:00Z) or epoch milliseconds');
  return n;
};
const shift = (v: string): ContextShift | null => {
  if (v === 'none') return null;
  const m = /^(device|site)@(.+)$/.exec(v);
  if (!m) throw new InvalidArgumentError('must be device@<duration>, site@<duration> or none');
  return { feature: m[1] as ContextShift['feature'], atMs: duration(m[2]) };
};
const duration = (v: string) => {
  try {
    return parseDuration(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
};

/** What the command reads and writes besides files and the event log (injected by tests). */
export interface SimCommandDeps {
  readonly env?: NodeJS.ProcessEnv;
  readonly out?: { write(text: string): unknown };
}

export function registerSimCommand(program: Command, deps: SimCommandDeps = {}): void {
  const out = deps.out ?? process.stdout;
  program
    .command('sim')
    .summary('Ad-market simulator: events into the log, or a synthetic Criteo/Avazu file (--export)')
    .description(
      'Ad-market simulator: a seeded market (users, ads, campaigns, categories, sites, devices) with a hidden true-CTR model, ' +
        'delayed clicks and drift. By default it appends impression and click events to the configured event log; with --export ' +
        'it writes a synthetic Criteo or Avazu data set file instead.',
    )
    .option('--seed <n>', 'random seed: the same seed gives the same market and events', int(0), 1)
    .option('--base-ctr <p>', `mean true CTR; events: 0.01–0.05 (default 0.03); export: default ${DEFAULT_EXPORT_CTR.criteo} criteo, ${DEFAULT_EXPORT_CTR.avazu} avazu`, fraction(0.001, 0.5))
    .addOption(new Option('--export <format>', 'write a data set file instead of events').choices(EXPORT_FORMATS))
    .option('--rows <n>', 'export: rows to write', int(1), 1_000_000)
    .option('--out <file>', 'export: output file, gzip-compressed when it ends in .gz (required with --export)')
    .option('--oracle-out <file>', 'export: also write the true CTR of every row, one number per line, in row order (.gz compresses)')
    .option('--days <n>', 'export avazu: days the hour column spans, from 2014-10-21', int(1), 10)
    .option('--impressions <n>', 'events: impressions to generate (their clicks follow)', int(1), 100_000)
    .option('--rate <n>', 'events: impressions per second of simulated (event) time', positive, 1000)
    .option('--speed <x|max>', 'events: simulated time runs x times faster than wall time; max = no pacing', speed, 60)
    .option('--realtime', 'events: event time is wall time (speed 1, start now)')
    .option('--start <time>', 'events: simulated start time, ISO 8601 or epoch ms (default: now)', time)
    .option('--window <duration>', 'events: attribution window the late-click share refers to (default: join.attributionWindowMs, PCTR_ATTRIBUTION_WINDOW)', duration)
    .option('--users <n>', 'events: users in the market', int(1), 10_000)
    .option('--ads <n>', 'events: live ads in the market', int(1), 2_000)
    .option('--no-drift', 'events: a stationary market (no ad fatigue, cold ads, taste walk or context shift)')
    .option('--quality-decay <x>', 'events: ad fatigue, logit lost per simulated hour of an ad\'s age (0 = off)', fraction(0, 10), 0.005)
    .option('--cold-ads <n>', 'events: new (cold) ads per simulated hour, each replacing an old one (0 = off)', fraction(0, 1e6), 20)
    .addOption(
      new Option('--taste-timescale <duration>', 'events: time scale of the users\' taste random walk, e.g. 3d (0 = off)')
        .argParser(duration)
        .default(3 * 24 * 3_600_000, '3d'),
    )
    .addOption(
      new Option('--shift <feature@time>', 'events: scheduled context shift after the start: device@<duration>, site@<duration> or none')
        .argParser(shift)
        .default({ feature: 'device', atMs: 12 * 3_600_000 }, 'device@12h'),
    )
    .option('--duplicate-rate <p>', 'events: share of clicks sent twice', fraction(0, 1), 0.01)
    .option('--unknown-click-rate <p>', 'events: clicks for never-served impression ids, per impression', fraction(0, 1), 0.001)
    .option('--id-prefix <prefix>', 'events: prefix of request and impression ids (default: s<seed>t<start, base 36>.)')
    .addHelpText('after', EXAMPLES)
    .action(async (flags: SimFlags, cmd: Command) => {
      if (flags.export) {
        out.write(`${await runExport(flags.export, flags)}\n`);
        return;
      }
      const config = loadConfig({ file: cmd.optsWithGlobals().config as string | undefined, env: deps.env });
      out.write(`${await runEvents(flags, config.events, flags.window ?? config.join.attributionWindowMs)}\n`);
    });
}

async function runExport(format: ExportFormat, flags: SimFlags): Promise<string> {
  if (!flags.out) throw new PctrError('PCTR_VALIDATION', '--export needs --out <file>');
  const bar = progressBar(flags.rows, 'rows');
  const s = await exportDataset(
    { format, rows: flags.rows, out: flags.out, oracleOut: flags.oracleOut, seed: flags.seed, baseCtr: flags.baseCtr, days: flags.days },
    (done) => bar.update(done),
  );
  bar.stop();
  return (
    `${format}: ${s.rows} rows, ${s.positives} positives (${pct(s.rate)}), mean true CTR ${pct(s.meanOracleCtr)}, ` +
    `${s.seconds.toFixed(2)} s (${k(s.rows / s.seconds)} rows/s) → ${s.out}${s.oracleOut ? ` (oracle → ${s.oracleOut})` : ''}`
  );
}

async function runEvents(flags: SimFlags, events: Config['events'], windowMs: number): Promise<string> {
  const realtime = flags.realtime === true;
  const speed = realtime ? 1 : flags.speed;
  const startTs = realtime ? Date.now() : (flags.start ?? Date.now());
  // ~10 appends per wall second when paced; big batches when not.
  const batchSize = speed === 'max' ? 8192 : Math.max(1, Math.min(8192, Math.round((flags.rate * speed) / 10)));
  const gen = new EventGenerator({
    seed: flags.seed,
    impressions: flags.impressions,
    startTs,
    ratePerSec: flags.rate,
    windowMs,
    users: flags.users,
    ads: flags.ads,
    baseCtr: flags.baseCtr,
    duplicateRate: flags.duplicateRate,
    unknownClickRate: flags.unknownClickRate,
    drift: flags.drift
      ? { qualityDecayPerHour: flags.qualityDecay, newAdsPerHour: flags.coldAds, tasteTimescaleMs: flags.tasteTimescale, contextShift: flags.shift }
      : false,
    idPrefix: flags.idPrefix ?? `s${flags.seed}t${startTs.toString(36)}.`,
    batchSize,
  });
  const clock = speed === 'max' ? null : new SimulatedClock({ start: startTs, speed });
  const log = await createEventLog(events);
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const bar = progressBar(flags.impressions, 'impressions');
  const started = performance.now();
  try {
    for (let batch = gen.nextRecords(); batch !== null && !stop.signal.aborted; batch = gen.nextRecords()) {
      if (clock) await waitUntil(clock, gen.stats.lastTs, stop.signal);
      // Impressions before clicks: a click never reaches the log ahead of its impression.
      if (batch.impressions.length > 0) await log.append(TOPICS.impressions, batch.impressions);
      if (batch.clicks.length > 0) await log.append(TOPICS.clicks, batch.clicks);
      bar.update(gen.stats.impressions);
    }
  } finally {
    bar.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await log.close();
  }
  return eventsSummary(gen.stats, startTs, (performance.now() - started) / 1000, events.url, stop.signal.aborted);
}

/** Wait (in wall time) until the simulated clock reaches `ts`, or the run is stopped. */
function waitUntil(clock: SimulatedClock, ts: number, signal: AbortSignal): Promise<void> {
  const ms = clock.wallDelayUntil(ts);
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

function eventsSummary(s: GeneratorStats, startTs: number, seconds: number, url: string, stopped: boolean): string {
  return (
    `sim${stopped ? ' (stopped)' : ''}: ${s.impressions} impressions in ${s.requests} requests, ${s.clicks} clicks ` +
    `(${s.lateClicks} late, ${s.duplicateClicks} duplicate, ${s.unknownClicks} unknown), mean true CTR ${pct(s.oracleCtrSum / Math.max(1, s.impressions))}, ` +
    `event time ${new Date(startTs).toISOString()} + ${formatDuration(Math.max(0, s.lastTs - startTs))}, ` +
    `${seconds.toFixed(2)} s (${k(s.impressions / seconds)} impressions/s) → ${url}`
  );
}

/** A progress bar on stderr when it is a terminal; nothing otherwise (the summary line is always printed). */
function progressBar(total: number, unit: string): { update(n: number): void; stop(): void } {
  if (!process.stderr.isTTY) return { update: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    { format: `{bar} {percentage}% | {value}/{total} ${unit} | {eta_formatted} left`, stream: process.stderr, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return { update: (n) => bar.update(n), stop: () => bar.stop() };
}

const pct = (x: number) => `${(100 * x).toFixed(2)} %`;
const k = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e4 ? `${(n / 1e3).toFixed(0)}k` : String(Math.round(n)));
