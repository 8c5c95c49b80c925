import { type Command, InvalidArgumentError } from 'commander';
import { loadConfig, parseDuration, TOPICS } from '../../core/index.ts';
import { createEventLog } from '../../events/index.ts';
import { replayEvents, type ReplayStats } from '../../sim/index.ts';

const EXAMPLES = `
Examples:
  $ pctr replay criteo ../shared/data/criteo-sample.tsv.gz            # every row into the event log
  $ pctr replay avazu avazu.csv.gz --rate 500 --click-delay 10s --limit 100000

Each row becomes an impression (topic "impressions") whose features as served are the row's raw
values; a clicked row also gets a click (topic "clicks") after a log-normal delay with the given
median. Avazu rows keep their hour (spaced by 1/rate inside it) and their id; userId is the device
id (or "ip-<device_ip>" for Avazu's unknown device), adId C14, campaignId C17, position banner_pos.
Criteo rows have no timestamp or identities: times are spaced by 1/rate from --start, and userId,
adId and campaignId are "criteo-unknown". Malformed rows are counted, reported and skipped; a
truncated gzip file stops the replay with an error after the good rows have been appended.`;

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

export function registerReplayCommand(program: Command, deps: { out?: NodeJS.WritableStream; env?: NodeJS.ProcessEnv } = {}): void {
  program
    .command('replay')
    .description('Publish a real CTR data set (Criteo TSV or Avazu CSV, gzip or plain) to the event log as impressions and clicks')
    .argument('<dataset>', 'criteo or avazu', (v) => {
      if (v !== 'criteo' && v !== 'avazu') throw new InvalidArgumentError('must be criteo or avazu');
      return v;
    })
    .argument('<file>', 'data file')
    .option('--rate <n>', 'impressions per second of event time', positive, 100)
    .option('--start <iso>', 'event time of the first Criteo row (ISO date)', (v) => {
      const t = Date.parse(v);
      if (!Number.isFinite(t)) throw new InvalidArgumentError('must be an ISO date such as 2024-01-01T00:00:00Z');
      return t;
    })
    .option('--click-delay <duration>', 'median delay from impression to click', duration, 30_000)
    .option('--pctr <p>', 'pCTR recorded on every replayed impression', (v) => {
      const p = Number(v);
      if (!(p > 0 && p < 1)) throw new InvalidArgumentError('must be in (0, 1)');
      return p;
    }, 0.1)
    .option('--limit <rows>', 'stop after this many good rows', positive)
    .option('--id-prefix <prefix>', 'impression id prefix (default "<dataset>-")')
    .option('--seed <n>', 'seed of the click delays', positive, 1)
    .addHelpText('after', EXAMPLES)
    .action(async (dataset: 'criteo' | 'avazu', file: string, flags: { rate: number; start?: number; clickDelay: number; pctr: number; limit?: number; idPrefix?: string; seed: number }, cmd: Command) => {
      const out = deps.out ?? process.stdout;
      const config = loadConfig({ file: cmd.optsWithGlobals().config as string | undefined, env: deps.env });
      const log = await createEventLog(config.events);
      const started = performance.now();
      let stats: ReplayStats | undefined;
      try {
        const gen = replayEvents({ kind: dataset, path: file, ratePerSec: flags.rate, startTs: flags.start, clickDelayMs: flags.clickDelay, pctr: flags.pctr, limit: flags.limit, idPrefix: flags.idPrefix, seed: flags.seed });
        for (;;) {
          const next = await gen.next();
          if (next.done) {
            stats = next.value;
            break;
          }
          // Impressions before clicks: a click never reaches the log ahead of its impression.
          if (next.value.impressions.length > 0) await log.append(TOPICS.impressions, next.value.impressions);
          if (next.value.clicks.length > 0) await log.append(TOPICS.clicks, next.value.clicks);
        }
      } finally {
        await log.close();
      }
      const seconds = (performance.now() - started) / 1000;
      const errors = stats.firstErrors.map((e) => `\n  line ${e.line}: ${e.message}`).join('');
      out.write(
        `${dataset}: ${stats.impressions} impressions and ${stats.clicks} clicks → ${config.events.url} in ${seconds.toFixed(2)} s ` +
          `(${Math.round((stats.impressions + stats.clicks) / seconds)} events/s); ${stats.malformed} malformed rows skipped${errors}\n`,
      );
    });
}
