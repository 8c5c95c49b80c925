/**
 * The main thread's handle on a part running in a worker thread: its latest stats, a restart
 * (from the part's own checkpoint, after a backoff) when it fails, and a graceful stop that waits
 * for the part's final checkpoint or flush.
 */
import type { Worker } from 'node:worker_threads';
import { PctrError, startWorker, type Logger } from '../core/index.ts';
import type { PartMessage } from './part-worker.ts';
import type { PartName, PartSettings } from './parts.ts';

const STATS_EVERY_MS = 500;
const MAX_BACKOFF_MS = 30_000;

export class PartThread {
  private worker: Worker | null = null;
  private latest: unknown = null;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | null = null;
  private backoffMs = 500;
  private failures = 0;
  /** Set once the part first ran: later failures restart it instead of failing the start. */
  private started = false;
  private lastFailure: string | null = null;
  /** Resolves with the final stats once a stop completes. */
  private stopped: ((stats: unknown) => void) | null = null;

  private constructor(
    readonly name: PartName,
    private readonly settings: PartSettings,
    private readonly logger: Logger,
  ) {}

  /** Starts the part; resolves once it runs, rejects (PCTR_INTERNAL) when it cannot open at all. */
  static async start(name: PartName, settings: PartSettings, logger: Logger): Promise<PartThread> {
    const t = new PartThread(name, settings, logger);
    await t.spawn();
    return t;
  }

  /** The part's latest stats (null before the first report). */
  stats(): unknown {
    return this.latest;
  }

  status(): { readonly running: boolean; readonly failures: number; readonly lastFailure: string | null } {
    return { running: this.worker !== null, failures: this.failures, lastFailure: this.lastFailure };
  }

  /** Stop the part (its final checkpoint or flush) and end the thread; resolves with its final stats. */
  async stop(timeoutMs = 30_000): Promise<unknown> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const worker = this.worker;
    if (worker === null) return this.latest;
    const final = new Promise<unknown>((resolve) => (this.stopped = resolve));
    worker.postMessage({ type: 'stop' });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), timeoutMs)));
    const outcome = await Promise.race([final, late]);
    clearTimeout(timer);
    if (outcome === 'late') this.logger.error({ part: this.name, timeoutMs }, `${this.name}: did not stop in time; ending its thread`);
    await worker.terminate();
    this.worker = null;
    return this.latest;
  }

  private spawn(): Promise<void> {
    return new Promise((resolve, reject) => {
      let ready = false;
      const worker = startWorker(new URL('./part-worker.ts', import.meta.url), { name: this.name, settings: this.settings, statsEveryMs: STATS_EVERY_MS });
      this.worker = worker;
      worker.on('message', (m: PartMessage) => {
        if (m.type === 'ready') {
          ready = true;
          this.started = true;
          this.backoffMs = 500;
          resolve();
        } else if (m.type === 'stats') {
          this.latest = m.stats;
        } else if (m.type === 'stopped') {
          this.latest = m.stats;
          this.stopped?.(m.stats);
        } else if (m.type === 'failed') {
          this.failed(worker, m.message, ready ? null : reject);
        }
      });
      worker.on('error', (e) => this.failed(worker, e.message, ready ? null : reject));
      worker.on('exit', (code) => {
        if (this.worker === worker && !this.stopping) this.failed(worker, `thread exited with code ${code}`, ready ? null : reject);
        this.stopped?.(this.latest);
      });
    });
  }

  private failed(worker: Worker, message: string, reject: ((e: Error) => void) | null): void {
    if (this.worker !== worker) return;
    this.worker = null;
    void worker.terminate();
    this.failures++;
    this.lastFailure = message;
    reject?.(new PctrError('PCTR_INTERNAL', `${this.name} could not start: ${message}`));
    if (!this.started || this.stopping) return;
    this.logger.error({ part: this.name, err: message, retryInMs: this.backoffMs }, `${this.name} failed: ${message}; restarting it from its last checkpoint`);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      // A restart that fails is reported by failed(), which schedules the next one.
      this.spawn().catch(() => undefined);
    }, this.backoffMs);
    this.backoffMs = Math.min(MAX_BACKOFF_MS, this.backoffMs * 2);
  }
}
