/**
 * A BullMQ training worker (what `pctr worker` runs): takes step jobs from the queue and runs them
 * through the run store like the embedded runner, so a re-delivered step that already succeeded is
 * skipped; turns scheduler ticks into runs. A worker killed mid-step loses its job lock; after
 * `lockDuration` the stalled-job check of any live worker moves the job back to waiting and another
 * worker runs the step again (idempotent: the register step reuses its registry idempotency key).
 * Failures a retry cannot fix are thrown as UnrecoverableError so BullMQ does not retry them.
 */
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { PctrError, errorMessage, silentLogger, type Logger } from '../../core/index.ts';
import { isRetryable, type Dag } from '../dag.ts';
import type { RunStore } from '../run-store/run-store.ts';
import { QUEUE_NAME, TrainingQueues, type BullmqSettings, type StepJobData, type TickJobData, type TrainingJobData } from './bullmq-queues.ts';
import { runStep, toErrorRecord } from './run-step.ts';
import { DEFAULT_RETRY, tickRunSpec, type RetryPolicy } from './runner.ts';

export interface TrainingWorkerOptions extends BullmqSettings {
  readonly store: RunStore;
  /** The pipelines this worker can run, by name. */
  readonly dags: readonly Dag<unknown>[];
  readonly logger?: Logger;
  /** Steps run at once by this worker (default 1). */
  readonly concurrency?: number;
  /** How long a job stays locked without renewal before another worker may take it over (default 30 s). */
  readonly lockDurationMs?: number;
  /** Period of the stalled-job check (default 30 s). */
  readonly stalledIntervalMs?: number;
  /** Retries of the runs this worker starts from schedule ticks. */
  readonly retry?: Partial<RetryPolicy>;
  /** Worker name, stored on the jobs it processes. */
  readonly name?: string;
}

export class TrainingWorker {
  private readonly worker: Worker<TrainingJobData>;
  private readonly queues: TrainingQueues;
  private readonly dags: Map<string, Dag<unknown>>;
  private readonly store: RunStore;
  private readonly logger: Logger;
  private readonly retry: RetryPolicy;

  constructor(opts: TrainingWorkerOptions) {
    this.store = opts.store;
    this.logger = opts.logger ?? silentLogger;
    this.retry = { ...DEFAULT_RETRY, ...opts.retry };
    this.dags = new Map(opts.dags.map((d) => [d.name, d]));
    this.queues = new TrainingQueues(opts, this.logger);
    this.worker = new Worker<TrainingJobData>(QUEUE_NAME, (job, _token, signal) => this.process(job, signal ?? new AbortController().signal), {
      connection: { url: opts.redisUrl },
      prefix: opts.prefix,
      concurrency: opts.concurrency ?? 1,
      lockDuration: opts.lockDurationMs ?? 30_000,
      stalledInterval: opts.stalledIntervalMs ?? 30_000,
      // A crashed worker is an expected event here, not a sign of a poisoned job.
      maxStalledCount: 5,
      name: opts.name,
    });
    this.worker.on('error', (e) => this.logger.warn({ err: errorMessage(e) }, 'training worker: Redis error'));
    this.worker.on('stalled', (jobId) => this.logger.warn({ jobId }, 'training worker: a job stalled (its worker died?) and goes back to the queue'));
  }

  /** Resolves once the worker is connected and taking jobs. */
  waitUntilReady(): Promise<unknown> {
    return this.worker.waitUntilReady();
  }

  /** Stops taking jobs and waits for the ones in progress. */
  async close(): Promise<void> {
    await this.worker.close();
    await this.queues.close();
  }

  private async process(job: Job<TrainingJobData>, signal: AbortSignal): Promise<unknown> {
    return job.data.kind === 'tick' ? this.tick(job as Job<TickJobData>) : this.step(job as Job<StepJobData>, signal);
  }

  private dag(name: string): Dag<unknown> {
    const dag = this.dags.get(name);
    if (!dag) throw new UnrecoverableError(`this worker does not know pipeline ${name} (it knows ${[...this.dags.keys()].join(', ')})`);
    return dag;
  }

  /** One run per tick; its id comes from the tick's scheduled time, so a re-delivered tick adds nothing. */
  private async tick(job: Job<TickJobData>): Promise<unknown> {
    const { pipeline, schedule } = job.data;
    const at = job.opts.prevMillis ?? job.timestamp;
    const run = await this.queues.enqueue(this.store, this.dag(pipeline), tickRunSpec(schedule, at, `cron-${schedule.id}-${at}`), this.retry);
    this.logger.info({ runId: run.id, schedule: schedule.id }, 'scheduled pipeline run submitted');
    return { runId: run.id };
  }

  private async step(job: Job<StepJobData>, signal: AbortSignal): Promise<unknown> {
    const { runId, pipeline, step } = job.data;
    const dag = this.dag(pipeline);
    try {
      const outcome = await runStep(this.store, dag, runId, step, { logger: this.logger, signal });
      if (step === dag.order[dag.order.length - 1]) await this.store.finishRun(runId, { status: 'succeeded' });
      return { step, skipped: outcome.skipped, attempt: outcome.attempt };
    } catch (err) {
      const retryable = isRetryable(err);
      const tries = job.attemptsMade + 1;
      if (!retryable || tries >= (job.opts.attempts ?? 1)) {
        const error = toErrorRecord(err);
        await this.store.finishRun(runId, { status: 'failed', error: { ...error, details: { ...error.details, step, tries } } });
      }
      if (!retryable) throw new UnrecoverableError(errorMessage(err));
      throw err instanceof Error ? err : new PctrError('PCTR_INTERNAL', errorMessage(err));
    }
  }
}
