/**
 * The embedded runner: runs a DAG in this process, one step at a time in topological order, and
 * one run at a time per pipeline (a second run queues behind the first). A failed step is retried
 * with exponential backoff unless retrying cannot help; the run fails when a step runs out of tries.
 * Cron schedules use croner, ticking on the wall clock and taking "now" from the event clock (which
 * the simulator may run faster than real time).
 */
import { Cron } from 'croner';
import { PctrError, errorMessage, silentLogger, systemClock, type Clock, type Logger } from '../../core/index.ts';
import { isRetryable, type Dag } from '../dag.ts';
import type { RunRecord, RunStore } from '../run-store/run-store.ts';
import { backoffDelay, createRun, runStep, toErrorRecord, type RunSpec } from './run-step.ts';
import { DEFAULT_RETRY, checkScheduleSpec, isFinished, sleep, tickRunSpec, waitForRun, type PipelineRunner, type RetryPolicy, type ScheduleSpec } from './runner.ts';

export interface EmbeddedRunnerOptions {
  readonly store: RunStore;
  readonly logger?: Logger;
  readonly retry?: Partial<RetryPolicy>;
  /** Event time for schedule ticks (default: the system clock). */
  readonly clock?: Clock;
}

export class EmbeddedRunner implements PipelineRunner {
  readonly kind = 'embedded';
  private readonly store: RunStore;
  private readonly logger: Logger;
  private readonly retry: RetryPolicy;
  private readonly clock: Clock;
  private readonly running = new Map<string, Promise<RunRecord>>();
  /** Tail of each pipeline's queue of runs. */
  private readonly lanes = new Map<string, Promise<unknown>>();
  private readonly crons = new Map<string, Cron>();
  private readonly stopping = new AbortController();

  constructor(opts: EmbeddedRunnerOptions) {
    this.store = opts.store;
    this.logger = opts.logger ?? silentLogger;
    this.retry = { ...DEFAULT_RETRY, ...opts.retry };
    this.clock = opts.clock ?? systemClock;
    if (!(Number.isInteger(this.retry.attempts) && this.retry.attempts >= 1)) throw new PctrError('PCTR_VALIDATION', `retry attempts must be an integer ≥ 1, got ${this.retry.attempts}`);
  }

  async submit<P>(dag: Dag<P>, spec: RunSpec): Promise<RunRecord> {
    if (this.stopping.signal.aborted) throw new PctrError('PCTR_CONFLICT', 'the embedded pipeline runner is closed');
    const run = await createRun(this.store, dag, spec);
    if (run.status === 'succeeded' || this.running.has(run.id)) return run;
    const lane = this.lanes.get(dag.name) ?? Promise.resolve();
    const done = lane.then(() => this.execute(dag, run.id));
    this.running.set(run.id, done);
    const tail = done.catch(() => undefined).finally(() => this.running.delete(run.id));
    this.lanes.set(dag.name, tail);
    return run;
  }

  async run<P>(dag: Dag<P>, spec: RunSpec): Promise<RunRecord> {
    const run = await this.submit(dag, spec);
    return this.wait(run.id);
  }

  async wait(runId: string, opts: { timeoutMs?: number } = {}): Promise<RunRecord> {
    const inProcess = this.running.get(runId);
    if (inProcess && opts.timeoutMs === undefined) return inProcess;
    return waitForRun(this.store, runId, { ...opts, signal: this.stopping.signal });
  }

  async schedule<P>(dag: Dag<P>, spec: ScheduleSpec): Promise<void> {
    checkScheduleSpec(spec);
    await this.unschedule(spec.id);
    const cron = new Cron(
      spec.cron,
      {
        name: `pctr-${spec.id}`,
        timezone: spec.timezone,
        // A tick while the previous scheduled run still trains is skipped rather than queued up.
        protect: true,
        catch: (e: unknown) => this.logger.error({ err: errorMessage(e), schedule: spec.id }, 'scheduled pipeline run could not start'),
      },
      async () => {
        const run = await this.submit(dag, tickRunSpec(spec, this.clock.now()));
        this.logger.info({ runId: run.id, schedule: spec.id }, 'scheduled pipeline run started');
        await this.wait(run.id);
      },
    );
    this.crons.set(spec.id, cron);
  }

  async unschedule(id: string): Promise<void> {
    this.crons.get(id)?.stop();
    this.crons.delete(id);
  }

  /** Stops schedules and waits for runs in progress to stop; an interrupted run is left failed, resumable by id. */
  async close(): Promise<void> {
    for (const id of [...this.crons.keys()]) await this.unschedule(id);
    this.stopping.abort(new PctrError('PCTR_CONFLICT', 'the embedded pipeline runner was closed'));
    await Promise.allSettled([...this.running.values()]);
  }

  private async execute<P>(dag: Dag<P>, runId: string): Promise<RunRecord> {
    const signal = this.stopping.signal;
    const current = await this.store.getRun(runId);
    if (isFinished(current) && current.status === 'succeeded') return current;
    for (const step of dag.order) {
      for (let tries = 1; ; tries++) {
        try {
          await runStep(this.store, dag, runId, step, { logger: this.logger, signal });
          break;
        } catch (err) {
          const last = signal.aborted || !isRetryable(err) || tries >= this.retry.attempts;
          // Closing the runner cuts the backoff short; the run then ends failed (resumable by id).
          if (last || !(await sleep(backoffDelay(tries, this.retry.backoffMs), signal).then(() => true, () => false))) {
            const error = toErrorRecord(err);
            this.logger.warn({ runId, step, tries, err: error.message }, 'pipeline run failed');
            return this.store.finishRun(runId, { status: 'failed', error: { ...error, details: { ...error.details, step, tries } } });
          }
        }
      }
    }
    return this.store.finishRun(runId, { status: 'succeeded' });
  }
}
