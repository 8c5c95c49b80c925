/**
 * `pctr backfill`: retrain over a past range of the offline store, one pipeline run per slice
 * (`--every`), oldest first. Backfill runs register their models and record the gate decision but
 * do not promote unless `--promote` is given. Exit code 1 when any run failed.
 */
import type { Command } from 'commander';
import { PctrError } from '../../core/index.ts';
import { openTraining, paramPairs, parseDurationFlag, parseTime, runsTable, type Io } from './training-cli.ts';

interface BackfillFlags {
  from: string;
  to: string;
  every?: string;
  promote?: boolean;
  param: string[];
  scheduler?: string;
  json?: boolean;
}

export function registerBackfillCommand(program: Command, io: Io = {}): void {
  const out = io.out ?? process.stdout;
  program
    .command('backfill')
    .description('Retrain over a past range of the offline store: one pipeline run per slice, without promoting by default')
    .requiredOption('--from <time>', 'start of the range (ISO date/time in UTC, or epoch ms)')
    .requiredOption('--to <time>', 'end of the range, exclusive')
    .option('--every <duration>', 'slice length, e.g. 1d or 6h (default: the whole range as one run)')
    .option('--promote', 'let runs that pass the gate become champion (in slice order)')
    .option('--param <key=value>', 'learner parameter, repeatable', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--scheduler <runner>', 'embedded (slices one after the other) | bullmq (slices spread over pctr worker processes)')
    .option('--json', 'print the runs as JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ pctr backfill --from 2026-03-01 --to 2026-03-08 --every 1d
  $ pctr backfill --from 2026-03-01T00:00Z --to 2026-03-01T12:00Z --every 6h --param alpha=0.1 --json`,
    )
    .action(async (flags: BackfillFlags, cmd: Command) => {
      const from = parseTime(flags.from, '--from');
      const to = parseTime(flags.to, '--to');
      if (!(from < to)) throw new PctrError('PCTR_VALIDATION', `--from must be before --to (got ${flags.from} … ${flags.to})`);
      const everyMs = flags.every ? parseDurationFlag(flags.every, '--every') : to - from;
      const training = await openTraining(cmd, io, flags.scheduler ? { 'training.scheduler': flags.scheduler } : {});
      try {
        const learner = flags.param.length ? { learner: paramPairs(flags.param) } : {};
        const runs = await training.backfill({
          range: { from, to },
          everyMs,
          promote: flags.promote === true,
          params: learner,
          onRun: (r) => {
            if (!flags.json) process.stderr.write(`pctr backfill: run ${r.id} ${r.status}\n`);
          },
        });
        out.write(`${flags.json ? JSON.stringify(runs) : runsTable(runs)}\n`);
        if (runs.some((r) => r.status !== 'succeeded')) process.exitCode = 1;
      } finally {
        await training.close();
      }
    });
}
