/**
 * `pctr start`: the whole loop in one process on embedded backends (see app/), optionally driven by
 * the simulator through the real HTTP API (`--sim`, what `npm start` runs), optionally with N
 * gateway processes sharing the port (`--workers`).
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { loadConfig, parseDuration, type ConfigOverrides } from '../../core/index.ts';
import { parseParamPairs } from '../../models/index.ts';
import { DEFAULT_LEARNER_PARAMS, SIM_DEFAULTS, runCluster, runStart, type SimSettings } from '../../app/index.ts';
import { time } from './sim.command.ts';

interface StartFlags {
  sim?: boolean;
  host?: string;
  port?: string;
  duration?: number;
  summaryJson?: string;
  workers: number;
  speed: number | 'max';
  start?: number;
  impressions?: number;
  rate: number;
  k: number;
  concurrency: number;
  seed: number;
  users: number;
  ads: number;
  window: number;
  trainEvery: number;
  param?: string[];
  dashboard: boolean;
}

const int = (min: number) => (v: string) => {
  const n = Number(v.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`must be an integer ≥ ${min}`);
  return n;
};
const positive = (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a number > 0');
  return n;
};
const duration = (v: string) => {
  try {
    return parseDuration(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
};
const collect = (v: string, all: string[] = []) => [...all, v];

const EXAMPLES = `
Examples:
  $ npm start                                         # = pctr start --sim: the loop learning from simulated traffic
  $ pctr start --sim --speed max --impressions 300000 --summary-json /tmp/run.json
  $ pctr start --sim --duration 90s                   # a short demo run, then a summary
  $ pctr start --sim --workers 2                      # two gateway processes on one port
  $ pctr start                                        # serve your own traffic: POST /v1/rank, POST /v1/events

The simulator's market is small by default (${SIM_DEFAULTS.users} users, ${SIM_DEFAULTS.ads} ads) so that a model trained on a
few hundred thousand impressions can come close to its oracle; --users and --ads make it bigger.
One ad per request (--k 1) by default: at lower positions the simulator's users click less, which
a pCTR computed before the ad is placed cannot know.

On a terminal the view redraws in place and the logs go to <data dir>/pctr.log (or PCTR_LOG_FILE);
otherwise it prints a line every 5 s and the logs go to stderr.`;

export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .summary('The whole loop in one process (npm start = pctr start --sim)')
    .description(
      'Run the whole loop in one process on embedded backends (file event log, memory online store, SQLite registry, ' +
        'Parquet offline store under the data dir): gateway, streaming join, aggregates, continuous learner and batch ' +
        'pipeline (training in worker threads), registry, monitor and dashboard. With --sim the simulator sends its users\' ' +
        'requests and clicks through the HTTP API and a live view compares the served pCTR with the simulator\'s oracle.',
    )
    .option('--sim', 'drive the loop with the simulator\'s traffic through the HTTP API')
    .option('--host <host>', 'listen address (default: gateway.host, PCTR_HOST)')
    .option('--port <port>', 'listen port, 0 = any free port (default: gateway.port, PCTR_PORT, 8080)')
    .option('--duration <duration>', 'stop after this much wall time, e.g. 90s or 10m (default: until Ctrl-C)', duration)
    .option('--summary-json <file>', 'write the final summary (impressions, clicks, served_auc, oracle_auc, served_logloss, oracle_logloss, calibration, versions_promoted, …) as JSON')
    .option('--workers <n>', 'gateway processes sharing the port (node:cluster); the primary keeps the log, join, aggregates and training', int(1), 1)
    .option('--speed <x|max>', 'sim: simulated time runs x times faster than wall time; max = as fast as the gateway answers', (v) => (v === 'max' ? 'max' : positive(v)), SIM_DEFAULTS.speed)
    .option('--impressions <n>', 'sim: stop after this many impressions', int(1))
    .option('--rate <n>', 'sim: rank requests per simulated second', positive, SIM_DEFAULTS.requestRate)
    .option('--k <n>', 'sim: ads per request', int(1), SIM_DEFAULTS.k)
    .option('--concurrency <n>', 'sim: rank requests in flight', int(1), SIM_DEFAULTS.concurrency)
    .option('--seed <n>', 'sim: market seed', int(0), SIM_DEFAULTS.seed)
    .option('--start <time>', 'sim: simulated start time, ISO 8601 or epoch ms (default: now; the market has an hour-of-day curve, so a fixed start makes runs repeatable)', time)
    .option('--users <n>', 'sim: users in the market', int(1), SIM_DEFAULTS.users)
    .option('--ads <n>', 'sim: live ads in the market', int(1), SIM_DEFAULTS.ads)
    .option('--window <n>', 'sim: impressions in the served-vs-oracle window of the view and the summary', int(100), SIM_DEFAULTS.window)
    .addOption(new Option('--train-every <duration>', 'event time between batch pipeline runs, e.g. 1h (0 = only on training.cron)').argParser(duration).default(SIM_DEFAULTS.trainEveryMs, '1h'))
    .option('--param <k=v>', `learner parameter of the continuous learner and the pipeline, repeatable (default ${Object.entries(DEFAULT_LEARNER_PARAMS).map(([k, v]) => `${k}=${String(v)}`).join(' ')})`, collect)
    .option('--no-dashboard', 'no monitor and no dashboard (less work per request)')
    .addHelpText('after', EXAMPLES)
    .action(async (flags: StartFlags, cmd: Command) => {
      const overrides: ConfigOverrides = {};
      if (flags.host !== undefined) overrides['gateway.host'] = flags.host;
      if (flags.port !== undefined) overrides['gateway.port'] = flags.port;
      const config = loadConfig({ file: cmd.optsWithGlobals().config as string | undefined, overrides });
      const sim: SimSettings | null = flags.sim
        ? {
            speed: flags.speed,
            ...(flags.start === undefined ? {} : { start: flags.start }),
            requestRate: flags.rate,
            k: flags.k,
            concurrency: flags.concurrency,
            impressions: flags.impressions ?? Infinity,
            window: flags.window,
            market: { ...SIM_DEFAULTS.market, seed: flags.seed, users: flags.users, ads: flags.ads, windowMs: config.join.attributionWindowMs },
          }
        : null;
      const options = {
        config,
        sim,
        durationMs: flags.duration ?? null,
        summaryJson: flags.summaryJson ?? null,
        learnerParams: { ...DEFAULT_LEARNER_PARAMS, ...parseParamPairs(flags.param ?? []) },
        trainEveryMs: flags.trainEvery,
        dashboard: flags.dashboard,
        out: process.stdout,
      };
      if (flags.workers > 1) await runCluster({ ...options, workers: flags.workers });
      else await runStart(options);
    });
}
