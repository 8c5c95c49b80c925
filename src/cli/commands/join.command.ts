import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { createLogger, errorMessage, formatDuration, isPctrError, loadConfig, parseDuration, pctrCommand, type Config, type Logger } from '../../core/index.ts';
import { createEventLog } from '../../events/index.ts';
import { JoinWorker, joinWindowFromConfig, parsePartitionList, parseWorkerSpec, workerPartitions, type JoinStats } from '../../join/index.ts';

interface JoinFlags {
  worker?: string;
  workers?: string;
  partitions?: string;
  id: string;
  untilCaughtUp?: boolean;
  drain?: boolean;
  window?: string;
  lateHorizon?: string;
  checkpointInterval?: string;
  progress: string;
  json?: boolean;
  validate?: boolean;
}

export function registerJoinCommand(program: Command): void {
  program
    .command('join')
    .summary('Streaming join / label backfill: impressions + clicks → labeled examples, exactly once')
    .description(
      'Streaming join / label backfill: impressions + clicks → labeled examples (topic examples). A positive as soon as a click ' +
        'arrives within the attribution window, a negative when the event-time watermark passes the window end; late and unknown ' +
        'clicks go to unattributed-clicks. State commits atomically with the input offsets (exactly-once across kill -9). ' +
        'Example: pctr join --workers 4, or one process per machine: pctr join --worker 0/4',
    )
    .option('--worker <i/N>', 'be worker i of N: take partitions p with p % N = i')
    .option('--workers <n>', 'run n worker processes splitting the partitions (default: join.workers, PCTR_JOIN_WORKERS)')
    .option('--partitions <list>', 'take exactly these partitions, e.g. 0,2,4')
    .option('--id <name>', 'transactional id: the same id resumes the same work', 'join')
    .option('--until-caught-up', 'stop (after a final checkpoint) once both input topics are read to their end')
    .option('--drain', 'with --until-caught-up: treat the end of input as the end of time and label every pending impression (backfill of a finished log)')
    .option('--window <duration>', 'attribution window, e.g. 30m (default: join.attributionWindowMs, PCTR_ATTRIBUTION_WINDOW)')
    .option('--late-horizon <duration>', 'how long after its window an impression is remembered, to tell late clicks from unknown ones (default: one window)')
    .option('--checkpoint-interval <duration>', 'wall time between checkpoints (default: join.checkpointIntervalMs, PCTR_CHECKPOINT_INTERVAL)')
    .option('--validate', 'check every impression and click against the event schemas (for producers that do not validate); invalid ones go to the topic dead-letters.join')
    .option('--progress <duration>', 'progress line on stderr every this often; 0 = none', '5s')
    .option('--json', 'progress lines as JSON objects {"progress": …} on stderr, and the final figures as one JSON object on stdout')
    .action(async (flags: JoinFlags, cmd: Command) => {
      const overrides: Record<string, unknown> = {};
      if (flags.window) overrides['join.attributionWindowMs'] = flags.window;
      if (flags.checkpointInterval) overrides['join.checkpointIntervalMs'] = flags.checkpointInterval;
      const configFile = cmd.optsWithGlobals().config as string | undefined;
      const config = loadConfig({ file: configFile, overrides });
      const workers = flags.workers === undefined ? config.join.workers : Number(flags.workers);
      if (flags.worker === undefined && flags.partitions === undefined && workers > 1) {
        process.exitCode = await runWorkerProcesses(workers, config.events.partitions, configFile);
        return;
      }
      const partitions = flags.partitions
        ? parsePartitionList(flags.partitions, config.events.partitions)
        : flags.worker
          ? (({ index, count }) => workerPartitions(config.events.partitions, index, count))(parseWorkerSpec(flags.worker))
          : workerPartitions(config.events.partitions, 0, 1);
      const stats = await runJoin(config, partitions, flags);
      if (flags.json) process.stdout.write(`${JSON.stringify(stats)}\n`);
      else process.stdout.write(`${summary(partitions, stats)}\n`);
    });
}

/**
 * Join until stopped. Any failure (a commit the backend refused, a lost connection) leaves this
 * process ahead of its checkpoint, so the worker is rebuilt from the checkpoint after a backoff;
 * with --until-caught-up, or on a conflict (another live worker owns these partitions), it stops instead.
 */
async function runJoin(config: Config, partitions: number[], flags: JoinFlags): Promise<JoinStats> {
  const logger = createLogger({ level: config.logLevel, name: 'join' });
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  let backoffMs = 500;
  try {
    for (;;) {
      try {
        return await runOnce(config, partitions, flags, stop.signal, logger);
      } catch (e) {
        if (flags.untilCaughtUp || stop.signal.aborted || isPctrError(e, 'PCTR_VALIDATION') || isPctrError(e, 'PCTR_CONFLICT')) throw e;
        logger.error({ err: e, retryInMs: backoffMs }, `join: ${errorMessage(e)}; restarting from the last checkpoint`);
        await new Promise((r) => setTimeout(r, backoffMs));
        backoffMs = Math.min(30_000, backoffMs * 2);
      }
    }
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}

async function runOnce(config: Config, partitions: number[], flags: JoinFlags, signal: AbortSignal, logger: Logger): Promise<JoinStats> {
  const log = await createEventLog(config.events, { logger });
  let worker: JoinWorker | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    worker = await JoinWorker.open(log, {
      ...joinWindowFromConfig(config, flags.lateHorizon === undefined ? undefined : parseDuration(flags.lateHorizon)),
      partitions,
      id: flags.id,
      checkpointIntervalMs: config.join.checkpointIntervalMs,
      idleTimeoutMs: config.join.idleTimeoutMs,
      validate: flags.validate,
      logger,
    });
    const progressMs = parseDuration(flags.progress);
    if (progressMs > 0) timer = setInterval(progressPrinter(worker, partitions, flags.json === true), progressMs);
    return await worker.run({ untilCaughtUp: flags.untilCaughtUp, drain: flags.drain, signal });
  } finally {
    if (timer) clearInterval(timer);
    await worker?.close();
    await log.close();
  }
}

/** Prints one progress line on stderr per call, with the event rate since the previous line. */
function progressPrinter(worker: JoinWorker, partitions: number[], json: boolean): () => void {
  let last = { at: performance.now(), events: worker.stats().eventsRead };
  return () => {
    const s = worker.stats();
    const at = performance.now();
    const recent = { ...s, eventsPerSec: ((s.eventsRead - last.events) * 1000) / Math.max(1, at - last.at) };
    last = { at, events: s.eventsRead };
    process.stderr.write(`${json ? JSON.stringify({ progress: recent }) : progressLine(partitions, recent)}\n`);
  };
}

/** One child process per worker; signals are passed on, and the exit code is the worst child's. */
async function runWorkerProcesses(count: number, partitions: number, configFile: string | undefined): Promise<number> {
  workerPartitions(partitions, 0, count);
  const passOn = process.argv.slice(process.argv.indexOf('join') + 1).filter((a, i, all) => a !== '--workers' && all[i - 1] !== '--workers' && !a.startsWith('--workers='));
  const children = Array.from({ length: count }, (_, i) => {
    const { command, args } = pctrCommand([...(configFile ? ['--config', configFile] : []), 'join', ...passOn, '--worker', `${i}/${count}`]);
    return spawn(command, args, { stdio: 'inherit' });
  });
  const forward = (sig: NodeJS.Signals) => () => children.forEach((c) => c.kill(sig));
  const onTerm = forward('SIGTERM');
  const onInt = forward('SIGINT');
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onInt);
  const codes = await Promise.all(children.map((c) => new Promise<number>((resolve) => c.once('exit', (code) => resolve(code ?? 1)))));
  process.off('SIGTERM', onTerm);
  process.off('SIGINT', onInt);
  return Math.max(...codes);
}

const k = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e4 ? `${(n / 1e3).toFixed(1)}k` : String(Math.round(n)));

function progressLine(partitions: number[], s: JoinStats): string {
  return (
    `join [${partitions.join(',')}] ${k(s.eventsPerSec)} ev/s | impressions ${k(s.impressions)} clicks ${k(s.clicks)} | ` +
    `+${k(s.positives)} -${k(s.negatives)} pending ${k(s.pending)} | late ${k(s.lateClicks)} unknown ${k(s.unknownClicks)} ` +
    `dup ${k(s.duplicateClicks)} invalid ${k(s.invalid)} | watermark lag ${s.watermarkLagMs === null ? '-' : formatDuration(s.watermarkLagMs)} | ` +
    `checkpoint ${s.lastCheckpointMs.toFixed(1)}ms ${k(s.lastStateBytes)}B`
  );
}

function summary(partitions: number[], s: JoinStats): string {
  return `${progressLine(partitions, s)} | ${s.checkpoints} checkpoints, restore ${Math.round(s.restoreMs)}ms (${k(s.replayedImpressions)} replayed)`;
}
