/**
 * What the BullMQ submitter and workers share: one queue (`training`, keys under a configurable
 * prefix), job ids derived from run id and step (so adding a run's flow again adds nothing), and
 * how a run becomes a flow. BullMQ flows are trees (a job has one parent), so a run's steps form a
 * chain in topological order: each step's job has the previous step's job as its only child and
 * becomes runnable once it completes. With one step running at a time per run, a chain loses nothing.
 */
import { FlowProducer, Queue, type FlowJob } from 'bullmq';
import { PctrError, errorMessage, type Logger } from '../../core/index.ts';
import type { Dag } from '../dag.ts';
import type { RunRecord, RunStore } from '../run-store/run-store.ts';
import { createRun, type RunSpec } from './run-step.ts';
import type { RetryPolicy, ScheduleSpec } from './runner.ts';

export const QUEUE_NAME = 'training';

/** Data of a job running one step of a run. */
export interface StepJobData {
  readonly kind: 'step';
  readonly runId: string;
  readonly pipeline: string;
  readonly step: string;
}

/** Data of a job a cron scheduler produces: start one run of `pipeline`. */
export interface TickJobData {
  readonly kind: 'tick';
  readonly pipeline: string;
  readonly schedule: ScheduleSpec;
}

export type TrainingJobData = StepJobData | TickJobData;

export interface BullmqSettings {
  /** `redis://host:port[/db]`. */
  readonly redisUrl: string;
  /** Key prefix of the queue, so deployments (and tests) sharing a Redis stay apart. */
  readonly prefix: string;
}

export function jobIdOf(runId: string, step: string): string {
  return `${runId}.${step}`;
}

/** Completed jobs are kept a week and failed ones a month, for inspection; the run store keeps the history. */
const KEEP = { removeOnComplete: { age: 7 * 86_400 }, removeOnFail: { age: 30 * 86_400 } } as const;

export class TrainingQueues {
  readonly queue: Queue<TrainingJobData>;
  readonly flows: FlowProducer;

  constructor(
    readonly settings: BullmqSettings,
    logger: Logger,
  ) {
    if (!/^[\w.-]{1,60}$/.test(settings.prefix)) throw new PctrError('PCTR_CONFIG_INVALID', `BullMQ queue prefix "${settings.prefix}" must be 1-60 letters, digits, . - _`);
    const connection = { url: settings.redisUrl };
    this.queue = new Queue<TrainingJobData>(QUEUE_NAME, { connection, prefix: settings.prefix });
    this.flows = new FlowProducer({ connection, prefix: settings.prefix });
    const onError = (what: string) => (e: Error) => logger.warn({ err: errorMessage(e), redis: settings.redisUrl }, `training ${what}: Redis error`);
    this.queue.on('error', onError('queue'));
    this.flows.on('error', onError('flow producer'));
  }

  /**
   * Creates the run (or finds it) and adds its flow. A failed run's old jobs are removed first, so
   * submitting its id again resumes it: steps that succeeded are skipped by the run store.
   * Adding a flow whose jobs already exist (a duplicate submission) adds nothing.
   */
  async enqueue<P>(store: RunStore, dag: Dag<P>, spec: RunSpec, retry: RetryPolicy): Promise<RunRecord> {
    const run = await createRun(store, dag, spec);
    if (run.status === 'succeeded') return run;
    // The jobs of an earlier, failed submission would make the new flow's adds no-ops.
    const root = await this.queue.getJob(jobIdOf(run.id, dag.order[dag.order.length - 1]));
    if (root && (await root.isFailed())) await root.remove({ removeChildren: true });
    let node: FlowJob | undefined;
    for (const step of dag.order) {
      const data: StepJobData = { kind: 'step', runId: run.id, pipeline: dag.name, step };
      node = {
        name: step,
        queueName: QUEUE_NAME,
        prefix: this.settings.prefix,
        data,
        opts: {
          jobId: jobIdOf(run.id, step),
          attempts: retry.attempts,
          backoff: { type: 'exponential', delay: retry.backoffMs },
          failParentOnFailure: true,
          ...KEEP,
        },
        ...(node ? { children: [node] } : {}),
      } as FlowJob;
    }
    await this.flows.add(node!);
    return run;
  }

  /** The reason the queue gave up on a step of this run, if it did (e.g. a job that stalled too often). */
  async failedStep(run: RunRecord): Promise<{ step: string; reason: string } | null> {
    const next = run.steps.find((s) => s.status !== 'succeeded');
    if (!next) return null;
    const job = await this.queue.getJob(jobIdOf(run.id, next.name));
    if (!job || !(await job.isFailed())) return null;
    return { step: next.name, reason: job.failedReason || 'failed in the queue' };
  }

  async upsertSchedule(pipeline: string, spec: ScheduleSpec, retry: RetryPolicy): Promise<void> {
    const data: TickJobData = { kind: 'tick', pipeline, schedule: spec };
    await this.queue.upsertJobScheduler(
      spec.id,
      { pattern: spec.cron, ...(spec.timezone ? { tz: spec.timezone } : {}) },
      { name: 'tick', data, opts: { attempts: retry.attempts, backoff: { type: 'exponential', delay: retry.backoffMs }, ...KEEP } },
    );
  }

  async removeSchedule(id: string): Promise<void> {
    await this.queue.removeJobScheduler(id);
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.flows.close(), this.queue.close()]);
  }
}
