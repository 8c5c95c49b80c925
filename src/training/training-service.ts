/**
 * Training as the rest of pctr uses it, built from the one config: the run store, the runner the
 * config names (`embedded` or `bullmq`), the batch pipeline wired to the offline store and the
 * registry, and the operations on top — run once over the latest window, schedule, backfill a past
 * range — plus the continuous learner and `pctr worker`'s BullMQ worker. Stores passed in (say the
 * registry `pctr start` also serves from) are used as they are and left open on close.
 */
import { randomBytes } from 'node:crypto';
import { PctrError, silentLogger, systemClock, urlScheme, type Clock, type Config, type Logger } from '../core/index.ts';
import { createEventLog, type EventLog } from '../events/index.ts';
import { createOfflineStore, type OfflineStore } from '../features/index.ts';
import { createRegistry, type AliasChangeHook, type Registry } from '../registry/index.ts';
import { ContinuousLearner } from './continuous/continuous-learner.ts';
import type { Dag } from './dag.ts';
import { BATCH_PIPELINE, batchPipeline } from './pipeline/batch-pipeline.ts';
import type { BatchParams, BatchParamsInput } from './pipeline/params.ts';
import { createRunStore } from './run-store/index.ts';
import type { RunRecord, RunStore } from './run-store/run-store.ts';
import { BullmqRunner } from './runners/bullmq-runner.ts';
import { TrainingWorker } from './runners/bullmq-worker.ts';
import { EmbeddedRunner } from './runners/embedded.ts';
import type { RunSpec } from './runners/run-step.ts';
import type { PipelineRunner, RetryPolicy } from './runners/runner.ts';

export interface TrainingDeps {
  readonly logger?: Logger;
  /** Event time for "now" when a range is not given (the simulator's clock in `pctr start --sim`). */
  readonly clock?: Clock;
  readonly registry?: Registry;
  readonly offline?: OfflineStore;
  readonly runs?: RunStore;
  /** Train in a worker thread (default true). */
  readonly fitInThread?: boolean;
  /** Called after each alias move of the registry the service opens (the monitoring webhook); unused when `registry` is given. */
  readonly onAliasChange?: AliasChangeHook;
}

export interface TimeRange {
  readonly from: number;
  readonly to: number;
}

/** Where run history lives: `training.runs`, else the registry's PostgreSQL, else SQLite in the data dir. */
export function runStoreUrl(config: Config): string {
  if (config.training.runs) return config.training.runs;
  const scheme = urlScheme(config.registry.url);
  if (scheme === 'postgres' || scheme === 'postgresql') return config.registry.url;
  return `sqlite:${config.dataDir}/runs.db`;
}

/** How far before "now" a default range ends: labels of later impressions may still change. */
export function lagMs(config: Config): number {
  const lag = config.training.lagMs;
  return lag === 'auto' ? config.join.attributionWindowMs + config.join.maxOutOfOrdernessMs : lag;
}

/** Consecutive slices `[from, from + every)`, …, the last one ending at `to`. */
export function backfillSlices(range: TimeRange, everyMs: number): TimeRange[] {
  if (!(everyMs > 0)) throw new PctrError('PCTR_VALIDATION', `backfill slice length must be > 0, got ${everyMs}`);
  if (!(range.from < range.to)) throw new PctrError('PCTR_VALIDATION', `backfill range must have from < to, got [${range.from}, ${range.to})`);
  const count = Math.ceil((range.to - range.from) / everyMs);
  if (count > 10_000) throw new PctrError('PCTR_VALIDATION', `backfill of ${count} slices is too many (at most 10000): use a longer --every`);
  return Array.from({ length: count }, (_, i) => ({ from: range.from + i * everyMs, to: Math.min(range.to, range.from + (i + 1) * everyMs) }));
}

const stamp = (ms: number): string => new Date(ms).toISOString().replace(/[-:]/g, '').slice(0, 13);

export class TrainingService {
  private constructor(
    readonly config: Config,
    readonly runs: RunStore,
    readonly registry: Registry,
    readonly offline: OfflineStore,
    readonly dag: Dag<BatchParams>,
    readonly runner: PipelineRunner,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly owned: (() => Promise<void>)[],
  ) {}

  static async open(config: Config, deps: TrainingDeps = {}): Promise<TrainingService> {
    const logger = deps.logger ?? silentLogger;
    const owned: (() => Promise<void>)[] = [];
    try {
      const runs = deps.runs ?? (await createRunStore(runStoreUrl(config), { logger }));
      if (!deps.runs) owned.push(() => runs.close());
      const registry = deps.registry ?? (await createRegistry({ url: config.registry.url, artifacts: config.registry.artifacts, logger, onAliasChange: deps.onAliasChange }));
      if (!deps.registry) owned.push(() => registry.close());
      const offline = deps.offline ?? createOfflineStore(config.features.offlineStore);
      if (!deps.offline) owned.push(() => offline.close());
      const dag = batchPipeline({ offline, registry, runs, workDir: config.training.workDir, fitInThread: deps.fitInThread, logger });
      const runner = createRunner(config, runs, logger, deps.clock);
      owned.unshift(() => runner.close());
      return new TrainingService(config, runs, registry, offline, dag, runner, deps.clock ?? systemClock, logger, owned);
    } catch (e) {
      for (const close of owned.reverse()) await close().catch(() => undefined);
      throw e;
    }
  }

  /** Pipeline parameters from the config, with `overrides` on top. */
  params(overrides: Partial<BatchParamsInput> = {}): BatchParamsInput {
    const t = this.config.training;
    return {
      modelName: this.config.registry.modelName,
      kind: t.model,
      sampleNegatives: t.sampleNegatives,
      calibration: t.calibration,
      gate: { minAucGain: t.gateMinAucGain, maxLoglossRatio: t.gateMaxLoglossRatio },
      ...overrides,
    };
  }

  /** The configured window, ending `lag` before the event clock's now. */
  latestRange(): TimeRange {
    const to = this.clock.now() - lagMs(this.config);
    return { from: to - this.config.training.windowMs, to };
  }

  /** One run of the batch pipeline (manual trigger), waiting for it to finish. */
  runOnce(opts: { range?: TimeRange; params?: Partial<BatchParamsInput>; id?: string } = {}): Promise<RunRecord> {
    return this.runner.run(this.dag, this.spec('manual', opts));
  }

  /** Starts a run without waiting (follow it with `runner.wait(id)` or the run store). */
  submit(opts: { range?: TimeRange; params?: Partial<BatchParamsInput>; id?: string } = {}): Promise<RunRecord> {
    return this.runner.submit(this.dag, this.spec('manual', opts));
  }

  /** Runs the pipeline on `cron` (default `training.cron`), each tick over the latest window. */
  async schedule(cron = this.config.training.cron, params: Partial<BatchParamsInput> = {}): Promise<void> {
    if (!cron) throw new PctrError('PCTR_VALIDATION', 'no cron expression: pass one or set training.cron (PCTR_TRAIN_CRON)');
    await this.runner.schedule(this.dag, { id: BATCH_PIPELINE, cron, windowMs: this.config.training.windowMs, lagMs: lagMs(this.config), params: this.params(params) });
  }

  unschedule(): Promise<void> {
    return this.runner.unschedule(BATCH_PIPELINE);
  }

  /**
   * Retrains over a past range, one run per slice (oldest first), without promoting unless asked.
   * Embedded: one slice after the other; bullmq: all submitted at once, spread over the workers.
   */
  async backfill(opts: { range: TimeRange; everyMs?: number; promote?: boolean; params?: Partial<BatchParamsInput>; onRun?: (run: RunRecord) => void }): Promise<RunRecord[]> {
    const slices = backfillSlices(opts.range, opts.everyMs ?? opts.range.to - opts.range.from);
    const token = randomBytes(3).toString('hex');
    const specs = slices.map((range, i): RunSpec => ({
      id: `backfill-${stamp(range.from)}-${token}-${i}`,
      trigger: 'backfill',
      range,
      params: this.params({ ...opts.params, promote: opts.promote ?? false }),
    }));
    const done: RunRecord[] = [];
    if (this.runner.kind === 'embedded') {
      for (const spec of specs) {
        const run = await this.runner.run(this.dag, spec);
        opts.onRun?.(run);
        done.push(run);
      }
      return done;
    }
    const submitted = [];
    for (const spec of specs) submitted.push(await this.runner.submit(this.dag, spec));
    for (const s of submitted) {
      const run = await this.runner.wait(s.id);
      opts.onRun?.(run);
      done.push(run);
    }
    return done;
  }

  /** The continuous learner on the configured event log (or `log`), not yet started. */
  async continuousLearner(opts: { log?: EventLog; params?: Readonly<Record<string, unknown>> } = {}): Promise<{ learner: ContinuousLearner; close: () => Promise<void> }> {
    const log = opts.log ?? (await createEventLog(this.config.events, { logger: this.logger }));
    const t = this.config.training;
    const learner = await ContinuousLearner.create({
      log,
      registry: this.registry,
      runs: this.runs,
      modelName: this.config.registry.modelName,
      kind: t.model,
      params: opts.params,
      everyExamples: t.continuousEveryExamples,
      everyMs: t.continuousEveryMs,
      // Frequent judgements still need enough clicks in the window for AUC and logloss to mean something.
      window: Math.max(10_000, Math.ceil(t.continuousEveryExamples / 2)),
      // Learn each example once its window has closed, in impression order (see ContinuousLearner).
      holdMs: this.config.join.attributionWindowMs,
      gate: { minAucGain: t.gateMinAucGain, maxLoglossRatio: t.gateMaxLoglossRatio },
      logger: this.logger,
    });
    return {
      learner,
      close: async () => {
        await learner.stop();
        if (!opts.log) await log.close();
      },
    };
  }

  /** A BullMQ worker running this service's pipelines (what `pctr worker` runs). */
  worker(opts: { concurrency?: number; lockDurationMs?: number; stalledIntervalMs?: number; name?: string } = {}): TrainingWorker {
    const t = this.config.training;
    return new TrainingWorker({
      store: this.runs,
      dags: [this.dag as Dag<unknown>],
      redisUrl: t.redisUrl,
      prefix: t.queuePrefix,
      retry: retryOf(this.config),
      logger: this.logger,
      ...opts,
    });
  }

  async close(): Promise<void> {
    for (const close of this.owned) await close();
  }

  private spec(trigger: RunSpec['trigger'], opts: { range?: TimeRange; params?: Partial<BatchParamsInput>; id?: string }): RunSpec {
    return { id: opts.id, trigger, range: opts.range ?? this.latestRange(), params: this.params(opts.params) };
  }
}

function retryOf(config: Config): RetryPolicy {
  return { attempts: config.training.attempts, backoffMs: config.training.backoffMs };
}

function createRunner(config: Config, store: RunStore, logger: Logger, clock?: Clock): PipelineRunner {
  const t = config.training;
  switch (t.scheduler) {
    case 'embedded':
      return new EmbeddedRunner({ store, logger, retry: retryOf(config), clock });
    case 'bullmq':
      return new BullmqRunner({ store, logger, retry: retryOf(config), redisUrl: t.redisUrl, prefix: t.queuePrefix });
  }
}
