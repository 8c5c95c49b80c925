/**
 * A BullMQ training worker process for the crash test: the real batch pipeline on PostgreSQL (run
 * store and registry), a file offline store and Redis, except that on its first attempt the
 * register step — after registering — writes a marker naming this process and then hangs, so the
 * test can SIGKILL the process at the worst moment: the version exists, the step is not recorded
 * as done. Usage: node --import tsx test/helpers/training-worker.ts '<json settings>'.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createLogger } from '../../src/core/index.ts';
import { createOfflineStore } from '../../src/features/index.ts';
import { createRegistry } from '../../src/registry/index.ts';
import { TrainingWorker, batchPipeline, createRunStore, defineDag, type BatchParams, type Dag, type StepDef } from '../../src/training/index.ts';

export interface TrainingWorkerSettings {
  readonly registryUrl: string;
  readonly runsUrl: string;
  readonly artifacts: string;
  readonly offlineDir: string;
  readonly workDir: string;
  readonly redisUrl: string;
  readonly prefix: string;
  /** Directory where the hanging register step writes `registered-<pid>`. */
  readonly markerDir: string;
}

/** The batch pipeline whose register step hangs after registering on its first attempt. */
export function hangingAfterRegister(dag: Dag<BatchParams>, markerDir: string): Dag<BatchParams> {
  const steps = dag.steps.map((s): StepDef<BatchParams> => {
    if (s.name !== 'register') return s;
    return {
      ...s,
      run: async (ctx) => {
        const out = await s.run(ctx);
        if (ctx.attempt === 1) {
          await writeFile(join(markerDir, `registered-${process.pid}`), JSON.stringify(out));
          await new Promise<never>(() => undefined);
        }
        return out;
      },
    };
  });
  return defineDag(dag.name, dag.params, steps);
}

async function main(): Promise<void> {
  const s = JSON.parse(process.argv[2]) as TrainingWorkerSettings;
  const logger = createLogger({ level: process.env.PCTR_LOG_LEVEL ?? 'warn', name: `worker-${process.pid}` });
  const runs = await createRunStore(s.runsUrl, { logger });
  const registry = await createRegistry({ url: s.registryUrl, artifacts: s.artifacts, logger });
  const offline = createOfflineStore(`file:${s.offlineDir}`);
  const dag = hangingAfterRegister(batchPipeline({ offline, registry, runs, workDir: s.workDir, logger }), s.markerDir);
  const worker = new TrainingWorker({ store: runs, dags: [dag as Dag<unknown>], redisUrl: s.redisUrl, prefix: s.prefix, logger, lockDurationMs: 2_000, stalledIntervalMs: 1_000 });
  await worker.waitUntilReady();
  process.stdout.write(`ready ${process.pid}\n`);
  const stop = async () => {
    await worker.close();
    await Promise.all([runs.close(), registry.close(), offline.close()]);
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
}

if (process.argv[1]?.endsWith('training-worker.ts')) await main();
