/**
 * The batch pipeline on event time: every `everyMs` of the event clock a run trains on the latest
 * window (training.windowMs, ending training.lag before now). Cron ticks on the wall clock, which
 * says nothing when the simulator runs hours of market per minute; this trigger follows the clock
 * the loop runs on, simulated or real. A tick while a run is still going is skipped, not queued.
 */
import { errorMessage, type Clock, type Logger } from '../core/index.ts';
import type { BatchParamsInput, RunRecord, TrainingService } from '../training/index.ts';

export interface PipelineTriggerStats {
  readonly runs: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly promoted: number;
  readonly running: boolean;
  /** The latest finished run: its id, status and gate reason (or error). */
  readonly last: { readonly id: string; readonly status: string; readonly promoted: boolean; readonly reason: string } | null;
}

export interface PipelineTriggerOptions {
  readonly training: TrainingService;
  readonly clock: Clock;
  /** Event time between runs. */
  readonly everyMs: number;
  readonly params?: Partial<BatchParamsInput>;
  readonly logger: Logger;
  /** Wall time between looks at the clock (default 500 ms). */
  readonly checkEveryMs?: number;
}

export class PipelineTrigger {
  private timer: NodeJS.Timeout | null = null;
  /** Event time of the next run (NaN until the first look at the clock). */
  private nextAt = NaN;
  private current: Promise<void> | null = null;
  private counts = { runs: 0, succeeded: 0, failed: 0, promoted: 0 };
  private last: PipelineTriggerStats['last'] = null;

  constructor(private readonly opts: PipelineTriggerOptions) {}

  start(): void {
    this.timer ??= setInterval(() => this.tick(), this.opts.checkEveryMs ?? 500);
  }

  stats(): PipelineTriggerStats {
    return { ...this.counts, running: this.current !== null, last: this.last };
  }

  /** No further runs; waits for the one in progress (the runner's close interrupts it). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.current;
  }

  private tick(): void {
    const now = this.opts.clock.now();
    // The first run waits a full period from the first look: before that there is little labeled data.
    if (Number.isNaN(this.nextAt)) this.nextAt = now + this.opts.everyMs;
    if (this.current !== null || now < this.nextAt) return;
    this.nextAt = now + this.opts.everyMs;
    this.counts.runs++;
    this.current = this.opts.training
      .runOnce({ params: this.opts.params })
      .then(
        (run) => this.finished(run),
        (e: unknown) => {
          this.counts.failed++;
          this.last = { id: '-', status: 'failed', promoted: false, reason: errorMessage(e) };
          this.opts.logger.warn({ err: errorMessage(e) }, 'batch pipeline run could not start');
        },
      )
      .finally(() => (this.current = null));
  }

  private finished(run: RunRecord): void {
    const promoted = run.gate?.promoted === true;
    if (run.status === 'succeeded') this.counts.succeeded++;
    else this.counts.failed++;
    if (promoted) this.counts.promoted++;
    const reason = run.gate?.reason ?? run.error?.message ?? run.status;
    this.last = { id: run.id, status: run.status, promoted, reason };
    this.opts.logger.info({ runId: run.id, status: run.status, promoted, reason }, 'batch pipeline run finished');
  }
}
