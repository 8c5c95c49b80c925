/**
 * Training benchmarks: the batch pipeline end to end on the offline store (per-step durations, rows/s,
 * test AUC beside the oracle's), the continuous learner's throughput (decode + progressive score +
 * update + commit, examples/s), and the runner overhead per step (embedded vs BullMQ on Redis).
 *   node --import tsx bench/training.ts [--rows 200000] [--stream 200000] [--json]
 */
import { join } from 'node:path';
import { z } from 'zod';
import { TOPICS, silentLogger } from '../src/core/index.ts';
import { appendEvents, createEventLog } from '../src/events/index.ts';
import { createOfflineStore } from '../src/features/index.ts';
import { auc } from '../src/models/index.ts';
import { createRegistry } from '../src/registry/index.ts';
import {
  BullmqRunner,
  ContinuousLearner,
  EmbeddedRunner,
  TrainingWorker,
  batchPipeline,
  createRunStore,
  defineDag,
  type Dag,
  type EvaluateOutput,
  type ExtractOutput,
} from '../src/training/index.ts';
import { dropRedisPrefix, redisUrl, tempDir, uniqueName } from '../test/helpers/services.ts';
import { syntheticExamples } from '../test/helpers/synthetic-examples.ts';
import { flag, fmt, hasFlag, printJson, printTable } from './lib/report.ts';

const H = 3_600_000;
const T0 = Date.parse('2026-01-05T00:00:00Z');
const rows = Number(flag('rows', '200000'));
const stream = Number(flag('stream', '200000'));
const tmp = tempDir('bench-training');
const figures: Record<string, unknown> = {};

async function batch(): Promise<void> {
  const offline = createOfflineStore(`file:${join(tmp.dir, 'offline')}`);
  const examples = syntheticExamples({ n: rows, from: T0, to: T0 + 24 * H });
  const w0 = performance.now();
  for (let i = 0; i < rows; i += 50_000) await offline.writeExamples(examples.slice(i, i + 50_000), `part-${i}`);
  const writeS = (performance.now() - w0) / 1000;
  const registry = await createRegistry({ url: `sqlite:${join(tmp.dir, 'registry.db')}`, artifacts: join(tmp.dir, 'artifacts'), logger: silentLogger });
  const runs = await createRunStore(`sqlite:${join(tmp.dir, 'runs.db')}`);
  const runner = new EmbeddedRunner({ store: runs });
  const dag = batchPipeline({ offline, registry, runs, workDir: join(tmp.dir, 'work') });
  const t0 = performance.now();
  const run = await runner.run(dag, { trigger: 'manual', range: { from: T0, to: T0 + 24 * H }, params: {} });
  const total = (performance.now() - t0) / 1000;
  if (run.status !== 'succeeded') throw new Error(`pipeline failed: ${run.error?.message}`);
  const ex = run.steps[0].output as ExtractOutput;
  const ev = run.steps.find((s) => s.name === 'evaluate')!.output as EvaluateOutput;
  const test = examples.filter((e) => e.ts >= ex.test.from);
  const oracle = auc(Float64Array.from(test, (e) => e.oracleCtr!), Uint8Array.from(test, (e) => e.label));
  printTable(`batch pipeline, ${fmt(rows)} examples over 24 h (embedded, training in a worker thread)`, ['step', 'seconds'], run.steps.map((s) => [s.name, (s.durationMs! / 1000).toFixed(2)]));
  process.stdout.write(`total ${total.toFixed(2)} s (${fmt(rows / total)} rows/s); offline store write ${writeS.toFixed(1)} s\n`);
  process.stdout.write(`test slice ${ex.test.rows} rows: AUC ${ev.challenger.auc.toFixed(4)} (oracle ${oracle.toFixed(4)}), logloss ${ev.challenger.logloss.toFixed(4)}, calibration ${ev.challenger.calibration.toFixed(3)}\n`);
  figures.batch = {
    rows,
    total_s: total,
    rows_per_s: rows / total,
    steps_s: Object.fromEntries(run.steps.map((s) => [s.name, s.durationMs! / 1000])),
    test_auc: ev.challenger.auc,
    oracle_auc: oracle,
    test_logloss: ev.challenger.logloss,
    test_calibration: ev.challenger.calibration,
  };
  await runner.close();
  await Promise.all([runs.close(), registry.close(), offline.close()]);
}

async function continuous(): Promise<void> {
  const log = await createEventLog({ url: `file:${join(tmp.dir, 'events')}`, partitions: 4, fsync: 'never', fsyncIntervalMs: 200, segmentBytes: 1 << 27, retentionBytes: 0, retentionMs: 0 });
  const registry = await createRegistry({ url: `sqlite:${join(tmp.dir, 'registry-c.db')}`, artifacts: join(tmp.dir, 'artifacts'), logger: silentLogger });
  const examples = syntheticExamples({ n: stream, from: T0, to: T0 + 24 * H, served: 0.1, seed: 5 });
  for (let i = 0; i < stream; i += 20_000) await appendEvents(log, TOPICS.examples, examples.slice(i, i + 20_000));
  const learner = await ContinuousLearner.create({ log, registry, modelName: 'ctr', kind: 'ftrl', everyExamples: 50_000, pollMax: 2_000, pollWaitMs: 10 });
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let n = 0;
  let maxStepMs = 0;
  while (n < stream) {
    const s0 = performance.now();
    n += await learner.step();
    maxStepMs = Math.max(maxStepMs, performance.now() - s0);
  }
  const wall = (performance.now() - t0) / 1000;
  const cpu = (() => {
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / 1e6;
  })();
  const s = learner.stats();
  process.stdout.write(`\ncontinuous learner: ${fmt(stream)} examples in ${wall.toFixed(2)} s = ${fmt(stream / wall)} examples/s (${fmt(stream / cpu)}/s per CPU s); longest step ${maxStepMs.toFixed(0)} ms; ${s.decisions} decisions, ${s.published} published; last window AUC ${s.lastDecision?.learner.auc.toFixed(4)}\n`);
  figures.continuous = { examples: stream, examples_per_s: stream / wall, examples_per_cpu_s: stream / cpu, longest_step_ms: maxStepMs, decisions: s.decisions, published: s.published };
  await learner.stop();
  await Promise.all([registry.close(), log.close()]);
}

async function overhead(): Promise<void> {
  const steps = 7;
  const dag: Dag<Record<string, never>> = defineDag(
    'noop',
    z.object({}).strict() as unknown as z.ZodType<Record<string, never>>,
    Array.from({ length: steps }, (_, i) => ({ name: `s${i}`, deps: i ? [`s${i - 1}`] : [], run: async () => ({ i }) })),
  );
  const runs = await createRunStore(`sqlite:${join(tmp.dir, 'runs-noop.db')}`);
  const prefix = uniqueName('benchq');
  const embedded = new EmbeddedRunner({ store: runs });
  const bull = new BullmqRunner({ store: runs, redisUrl: redisUrl(), prefix, pollMs: 5 });
  const worker = new TrainingWorker({ store: runs, redisUrl: redisUrl(), prefix, dags: [dag as Dag<unknown>] });
  await worker.waitUntilReady();
  const time = async (runner: EmbeddedRunner | BullmqRunner, repeats: number) => {
    const t0 = performance.now();
    for (let i = 0; i < repeats; i++) await runner.run(dag, { trigger: 'manual', range: null, params: {} });
    return (performance.now() - t0) / repeats / steps;
  };
  const e = await time(embedded, 20);
  const b = await time(bull, 20);
  printTable('runner overhead per step (7-step no-op DAG, SQLite run store)', ['runner', 'ms/step'], [['embedded', e.toFixed(2)], ['bullmq (1 worker, Redis)', b.toFixed(2)]]);
  figures.overhead = { embedded_ms_per_step: e, bullmq_ms_per_step: b };
  await worker.close();
  await bull.close();
  await embedded.close();
  await runs.close();
  await dropRedisPrefix(prefix);
}

try {
  await batch();
  await continuous();
  await overhead();
  if (hasFlag('json')) printJson(figures);
} finally {
  tmp.remove();
}
