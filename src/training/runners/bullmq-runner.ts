/**
 * The BullMQ runner (submitting side): creates runs in the run store and adds each as a flow of
 * step jobs to Redis, where `pctr worker` processes pick them up; cron schedules are BullMQ job
 * schedulers whose ticks any worker turns into runs. Waiting on a run polls the run store, and
 * reports a step the queue gave up on (say a job that stalled too often) as the run's failure.
 */
import { PctrError, silentLogger, type Logger } from '../../core/index.ts';
import type { Dag } from '../dag.ts';
import type { RunRecord, RunStore } from '../run-store/run-store.ts';
import { TrainingQueues, type BullmqSettings } from './bullmq-queues.ts';
import type { RunSpec } from './run-step.ts';
import { DEFAULT_RETRY, checkScheduleSpec, isFinished, sleep, type PipelineRunner, type RetryPolicy, type ScheduleSpec } from './runner.ts';

export interface BullmqRunnerOptions extends BullmqSettings {
  readonly store: RunStore;
  readonly logger?: Logger;
  readonly retry?: Partial<RetryPolicy>;
  /** Run store poll period while waiting (default 250 ms). */
  readonly pollMs?: number;
}

export class BullmqRunner implements PipelineRunner {
  readonly kind = 'bullmq';
  readonly queues: TrainingQueues;
  private readonly store: RunStore;
  private readonly retry: RetryPolicy;
  private readonly pollMs: number;
  private readonly closing = new AbortController();

  constructor(opts: BullmqRunnerOptions) {
    this.store = opts.store;
    this.retry = { ...DEFAULT_RETRY, ...opts.retry };
    this.pollMs = opts.pollMs ?? 250;
    this.queues = new TrainingQueues(opts, opts.logger ?? silentLogger);
  }

  submit<P>(dag: Dag<P>, spec: RunSpec): Promise<RunRecord> {
    return this.queues.enqueue(this.store, dag, spec, this.retry);
  }

  async run<P>(dag: Dag<P>, spec: RunSpec): Promise<RunRecord> {
    return this.wait((await this.submit(dag, spec)).id);
  }

  async wait(runId: string, opts: { timeoutMs?: number } = {}): Promise<RunRecord> {
    const deadline = opts.timeoutMs === undefined ? Infinity : Date.now() + opts.timeoutMs;
    for (;;) {
      const run = await this.store.getRun(runId);
      if (isFinished(run)) return run;
      const failed = await this.queues.failedStep(run);
      if (failed) {
        return this.store.finishRun(runId, {
          status: 'failed',
          error: { code: 'PCTR_PIPELINE_FAILED', message: `step ${failed.step} of run ${runId} failed in the queue: ${failed.reason}`, details: { step: failed.step } },
        });
      }
      if (Date.now() >= deadline) {
        throw new PctrError('PCTR_TIMEOUT', `run ${runId} did not finish within ${opts.timeoutMs} ms (steps ${run.steps.map((s) => `${s.name}=${s.status}`).join(', ')}); is a pctr worker running?`);
      }
      await sleep(Math.min(this.pollMs, deadline - Date.now()), this.closing.signal);
    }
  }

  async schedule<P>(dag: Dag<P>, spec: ScheduleSpec): Promise<void> {
    checkScheduleSpec(spec);
    await this.queues.upsertSchedule(dag.name, spec, this.retry);
  }

  unschedule(id: string): Promise<void> {
    return this.queues.removeSchedule(id);
  }

  async close(): Promise<void> {
    this.closing.abort(new PctrError('PCTR_CONFLICT', 'the BullMQ pipeline runner was closed'));
    await this.queues.close();
  }
}
