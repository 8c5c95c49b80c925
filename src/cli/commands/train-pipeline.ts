/**
 * The pipeline modes of `pctr train` (the file mode, `--input FILE`, lives in train.command.ts):
 * with no --input it runs the batch training pipeline once over a range of the offline store;
 * `--cron` schedules it; `--continuous` runs the online learner on the examples topic. Also
 * `pctr train runs` and `pctr train show RUN`, the run history.
 */
import type { Command } from 'commander';
import { PctrError, type ConfigOverrides } from '../../core/index.ts';
import type { RunRecord, RunStore, TrainingService } from '../../training/index.ts';
import { openRunStore, openTraining, paramPairs, parseDurationFlag, parseTime, runDetail, runsTable, untilSignal, type Io } from './training-cli.ts';

/** Flags of `pctr train` the pipeline modes read (some are shared with the file mode). */
export interface PipelineFlags {
  model?: string;
  param?: string[];
  calibration?: string;
  downsample?: number;
  json?: boolean;
  from?: string;
  to?: string;
  window?: string;
  cron?: string;
  unschedule?: boolean;
  continuous?: boolean;
  scheduler?: string;
  promote?: boolean;
  runId?: string;
  detach?: boolean;
  progress?: boolean;
}

export const PIPELINE_HELP = `
Pipeline modes (no --input): train on the offline store, evaluate against the champion, register,
promote through the gate (training.gateMinAucGain / gateMaxLoglossRatio):
  $ pctr train                                   once, over the latest training.windowMs (PCTR_TRAIN_WINDOW)
  $ pctr train --from 2026-03-01 --to 2026-03-02 once, over a past range
  $ pctr train --cron "0 * * * *"                every hour (bullmq: registers a job scheduler and exits)
  $ pctr train --continuous                      the online learner on the examples topic, until Ctrl-C
  $ pctr train --scheduler bullmq --detach       submit to pctr worker processes and return
  $ pctr train runs                              run history;  pctr train show RUN  one run's steps and gate
A run fails, registering nothing, on an empty or single-class range or a corrupt artifact.`;

/** Adds the pipeline-only options and the `runs` / `show` subcommands to `pctr train`. */
export function addPipelineMode(train: Command, io: Io = {}): Command {
  train
    .option('--from <time>', 'pipeline: start of the event-time range (ISO date/time in UTC, or epoch ms)')
    .option('--to <time>', 'pipeline: end of the range, exclusive (default: now − training.lagMs)')
    .option('--window <duration>', 'pipeline: range length when --from is not given (default training.windowMs)')
    .option('--cron <expression>', 'pipeline: run on this schedule (5 cron fields, or 6 with seconds)')
    .option('--unschedule', 'pipeline: remove the schedule (bullmq)')
    .option('--continuous', 'run the continuous online learner until interrupted')
    .option('--scheduler <runner>', 'pipeline runner: embedded | bullmq (default training.scheduler)')
    .option('--no-promote', 'pipeline: register and record the gate decision, but never move the champion')
    .option('--run-id <id>', 'pipeline: run id; the id of a failed run resumes it')
    .option('--detach', 'pipeline (bullmq): submit the run and return without waiting');
  const out = io.out ?? process.stdout;
  const print = (text: string) => void out.write(text.endsWith('\n') ? text : `${text}\n`);

  train
    .command('runs')
    .description('Pipeline run history, newest first')
    .option('--limit <n>', 'most runs shown', '20')
    .option('--status <status>', 'only runs with this status: pending | running | succeeded | failed')
    .option('--trigger <trigger>', 'only runs started so: manual | cron | backfill | continuous')
    .option('--pipeline <name>', 'only this pipeline: batch | continuous')
    .option('--json', 'print JSON')
    .action(async (opts: { limit: string; status?: string; trigger?: string; pipeline?: string; json?: boolean }, cmd: Command) => {
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new PctrError('PCTR_VALIDATION', `--limit "${opts.limit}" must be a positive integer`);
      if (opts.status && !['pending', 'running', 'succeeded', 'failed'].includes(opts.status)) throw new PctrError('PCTR_VALIDATION', `--status "${opts.status}" must be pending, running, succeeded or failed`);
      await withRuns(cmd, io, async (store) => {
        const runs = await store.listRuns({ limit, status: opts.status as RunRecord['status'] | undefined, trigger: opts.trigger, pipeline: opts.pipeline });
        print(json(cmd) ? JSON.stringify(runs, null, 2) : runsTable(runs));
      });
    });

  train
    .command('show <run>')
    .description('One run: its steps with status, tries and durations, the gate decision or the error')
    .option('--json', 'print JSON')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      await withRuns(cmd, io, async (store) => {
        const run = await store.getRun(id);
        print(json(cmd) ? JSON.stringify(run, null, 2) : runDetail(run));
      });
    });
  return train;
}

/** `pctr train` has a --json of its own, which commander credits with a --json given after `runs` or `show`. */
function json(cmd: Command): boolean {
  return cmd.optsWithGlobals().json === true;
}

async function withRuns<T>(cmd: Command, io: Io, fn: (store: RunStore) => Promise<T>): Promise<T> {
  const store = await openRunStore(cmd, io);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

async function withService<T>(cmd: Command, io: Io, overrides: ConfigOverrides, fn: (t: TrainingService) => Promise<T>): Promise<T> {
  const t = await openTraining(cmd, io, overrides);
  try {
    return await fn(t);
  } finally {
    await t.close();
  }
}

/** `pctr train` without --input. Sets process.exitCode 1 when the run failed. */
export async function runPipelineMode(flags: PipelineFlags, cmd: Command, io: Io = {}): Promise<void> {
  const out = io.out ?? process.stdout;
  const print = (text: string) => void out.write(text.endsWith('\n') ? text : `${text}\n`);
  const overrides: ConfigOverrides = {};
  const given = (name: string) => cmd.getOptionValueSource(name) !== undefined && cmd.getOptionValueSource(name) !== 'default';
  if (flags.scheduler) overrides['training.scheduler'] = flags.scheduler;
  if (given('model')) overrides['training.model'] = flags.model;
  if (given('calibration')) overrides['training.calibration'] = flags.calibration;
  if (given('downsample')) overrides['training.sampleNegatives'] = flags.downsample;
  if (flags.window) overrides['training.windowMs'] = parseDurationFlag(flags.window, '--window');
  const modes = [flags.cron !== undefined || flags.unschedule, flags.continuous].filter(Boolean).length;
  if (modes > 1) throw new PctrError('PCTR_VALIDATION', '--cron/--unschedule and --continuous are different modes: use one');
  const learner = flags.param?.length ? paramPairs(flags.param) : undefined;
  await withService(cmd, io, overrides, async (t) => {
    if (flags.continuous) return continuous(t, learner, print, flags.json === true);
    const params = { ...(learner ? { learner } : {}), ...(flags.promote === false ? { promote: false } : {}) };
    if (flags.unschedule) {
      await t.unschedule();
      return print('pipeline schedule removed');
    }
    if (flags.cron !== undefined) {
      await t.schedule(flags.cron, params);
      if (t.runner.kind === 'bullmq') return print(`scheduled the batch pipeline on "${flags.cron}" in BullMQ (prefix ${t.config.training.queuePrefix}); pctr worker processes run it`);
      print(`running the batch pipeline on "${flags.cron}" until interrupted`);
      await untilSignal();
      return;
    }
    const range = rangeOf(flags, t);
    if (flags.detach) {
      const run = await t.submit({ range, params, id: flags.runId });
      return print(flags.json ? JSON.stringify(run) : `submitted run ${run.id}; follow it with: pctr train show ${run.id}`);
    }
    const run = await t.runOnce({ range, params, id: flags.runId });
    print(flags.json ? JSON.stringify(run) : runDetail(run));
    if (run.status !== 'succeeded') process.exitCode = 1;
  });
}

function rangeOf(flags: PipelineFlags, t: TrainingService): { from: number; to: number } {
  const latest = t.latestRange();
  const to = flags.to ? parseTime(flags.to, '--to') : latest.to;
  const from = flags.from ? parseTime(flags.from, '--from') : to - t.config.training.windowMs;
  if (!(from < to)) throw new PctrError('PCTR_VALIDATION', `the range must have --from before --to (got ${new Date(from).toISOString()} … ${new Date(to).toISOString()})`);
  return { from, to };
}

async function continuous(t: TrainingService, params: Record<string, string> | undefined, print: (s: string) => void, json: boolean): Promise<void> {
  const { learner, close } = await t.continuousLearner({ params });
  const s0 = learner.stats();
  print(`continuous learner on topic examples (${s0.warmStartedFrom === null ? 'from scratch' : `warm start from v${s0.warmStartedFrom}`}); judging every ${t.config.training.continuousEveryExamples} examples; Ctrl-C stops`);
  const loop = learner.start();
  const timer = setInterval(() => {
    const s = learner.stats();
    print(json ? JSON.stringify({ progress: s }) : `examples ${s.examples}  invalid ${s.invalid}  decisions ${s.decisions}  published ${s.published}${s.lastDecision ? `  last: ${s.lastDecision.reason}` : ''}`);
  }, 10_000);
  try {
    await untilSignal();
  } finally {
    clearInterval(timer);
    await close();
    await loop;
  }
  print(json ? JSON.stringify(learner.stats()) : `stopped after ${learner.stats().examples} examples, ${learner.stats().published} versions published`);
}
