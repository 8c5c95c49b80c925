/**
 * `pctr worker`: a BullMQ training worker. It runs pipeline steps (and turns schedule ticks into
 * runs) from the training queue on Redis (training.redisUrl, key prefix training.queuePrefix),
 * recording everything in the shared run store. Start any number, on any hosts sharing the data
 * directory's run files and the artifact store; a worker killed mid-step has its step taken over
 * by another after the job lock (`--lock-duration`) expires. SIGINT/SIGTERM finish the step in
 * progress, then exit.
 */
import type { Command } from 'commander';
import { PctrError } from '../../core/index.ts';
import { openTraining, parseDurationFlag, untilSignal, type Io } from './training-cli.ts';

interface WorkerFlags {
  concurrency: string;
  lockDuration: string;
  stalledInterval: string;
  name?: string;
}

export function registerWorkerCommand(program: Command, io: Io = {}): void {
  program
    .command('worker')
    .description('Run training pipeline steps from the BullMQ queue on Redis (distributed training); any number of workers')
    .option('--concurrency <n>', 'steps run at once by this worker', '1')
    .option('--lock-duration <duration>', 'job lock: a step whose worker died is taken over after this', '30s')
    .option('--stalled-interval <duration>', 'how often this worker looks for steps whose worker died', '30s')
    .option('--name <name>', 'worker name, stored on the jobs it runs')
    .addHelpText(
      'after',
      `
Examples:
  $ PCTR_SCHEDULER=bullmq PCTR_REGISTRY=postgres://pctr@db/pctr pctr worker
  $ pctr worker --concurrency 2 --name trainer-1
Submit runs with \`pctr train --scheduler bullmq\` (or PCTR_SCHEDULER=bullmq) and \`pctr backfill\`.`,
    )
    .action(async (flags: WorkerFlags, cmd: Command) => {
      const concurrency = Number(flags.concurrency);
      if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw new PctrError('PCTR_VALIDATION', `--concurrency "${flags.concurrency}" must be an integer in [1, 64]`);
      const lockDurationMs = parseDurationFlag(flags.lockDuration, '--lock-duration');
      const stalledIntervalMs = parseDurationFlag(flags.stalledInterval, '--stalled-interval');
      const training = await openTraining(cmd, io);
      const worker = training.worker({ concurrency, lockDurationMs, stalledIntervalMs, name: flags.name });
      try {
        await worker.waitUntilReady();
        const t = training.config.training;
        process.stderr.write(`pctr worker: ready (redis ${t.redisUrl}, prefix ${t.queuePrefix}, concurrency ${concurrency})\n`);
        const signal = await untilSignal();
        process.stderr.write(`pctr worker: ${signal}, finishing the step in progress\n`);
      } finally {
        await worker.close();
        await training.close();
      }
    });
}
