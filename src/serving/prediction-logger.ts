/**
 * Asynchronous, batched prediction logging: the ranker enqueues each served ad's impression (and
 * shadow score) as ready JSON text and never waits for the log. Per topic, records are appended in
 * batches — when `maxBatch` are waiting, else `flushMs` after the first — with one append in flight
 * at a time, so a slow log makes batches bigger rather than appends more numerous.
 *
 * Policy when the log cannot keep up: the queue is bounded (`maxQueued` records per topic, counting
 * the batch in flight); past it new records are dropped and counted (`dropped`, metrics), because
 * blocking or failing ad requests for the sake of the log would turn a log outage into an ad outage.
 * A failed append is retried with backoff (records keep their order); a batch the log refuses as
 * invalid is dropped and counted rather than retried forever.
 *
 * The sink is anything with `append` — the event log, or in cluster mode a proxy that hands records
 * to the process owning the log.
 */
import { errorMessage, isPctrError, silentLogger, type Logger } from '../core/index.ts';
import type { AppendRecord, EventLog } from '../events/index.ts';
import type { ServingMetrics } from './metrics.ts';

/** Where served predictions and client events are appended. */
export type EventSink = Pick<EventLog, 'append'>;

export interface PredictionLoggerOptions {
  /** Longest a record waits before its batch is appended. */
  readonly flushMs?: number;
  /** Records per append. */
  readonly maxBatch?: number;
  /** Records per topic waiting or in flight; beyond it new records are dropped. */
  readonly maxQueued?: number;
  /** First retry delay after a failed append; doubles up to 5 s. */
  readonly retryMs?: number;
  readonly logger?: Logger;
  readonly metrics?: ServingMetrics;
}

export interface LoggerStats {
  readonly queued: number;
  readonly appended: number;
  readonly dropped: number;
  readonly failures: number;
  readonly lastError?: { readonly message: string; readonly at: string };
}

const MAX_RETRY_MS = 5_000;

class TopicQueue {
  waiting: AppendRecord[] = [];
  inFlight: AppendRecord[] | null = null;
  /** The pending flush (or retry), if any. */
  timer: NodeJS.Timeout | NodeJS.Immediate | null = null;
  immediate = false;
  retryMs: number;
  idle: (() => void)[] = [];

  constructor(
    readonly topic: string,
    retryMs: number,
  ) {
    this.retryMs = retryMs;
  }

  get size(): number {
    return this.waiting.length + (this.inFlight?.length ?? 0);
  }
}

export class PredictionLogger {
  private readonly flushMs: number;
  private readonly maxBatch: number;
  private readonly maxQueued: number;
  private readonly retryMs: number;
  private readonly logger: Logger;
  private readonly metrics: ServingMetrics | undefined;
  private readonly topics = new Map<string, TopicQueue>();
  private appended = 0;
  private dropped = 0;
  private failures = 0;
  private lastError: { message: string; at: string } | undefined;
  private closed = false;
  /** Set when close() gave up: late failures are dropped instead of retried. */
  private abandoned = false;

  constructor(
    private readonly sink: EventSink,
    opts: PredictionLoggerOptions = {},
  ) {
    this.flushMs = opts.flushMs ?? 5;
    this.maxBatch = opts.maxBatch ?? 2_000;
    this.maxQueued = opts.maxQueued ?? 200_000;
    this.retryMs = opts.retryMs ?? 100;
    this.logger = opts.logger ?? silentLogger;
    this.metrics = opts.metrics;
  }

  /** Queue one record; false when it was dropped (queue full or logger closed). Never blocks. */
  enqueue(topic: string, key: string, value: string): boolean {
    const q = this.queue(topic);
    if (this.closed || q.size >= this.maxQueued) {
      this.dropped++;
      this.metrics?.logDropped.inc({ topic });
      return false;
    }
    q.waiting.push({ key, value });
    if (q.inFlight === null && q.timer === null) {
      this.schedule(q, q.waiting.length >= this.maxBatch ? 0 : this.flushMs);
    }
    return true;
  }

  /** Resolves once every record queued so far has been appended (or dropped). */
  async drain(): Promise<void> {
    await Promise.all([...this.topics.values()].map((q) => this.whenIdle(q)));
  }

  /**
   * Stop accepting records and append what is queued, for at most `timeoutMs`; what is still
   * unwritten then is counted as dropped.
   */
  async close(timeoutMs = 5_000): Promise<void> {
    this.closed = true;
    for (const q of this.topics.values()) {
      if (q.timer !== null && q.inFlight === null) {
        this.cancel(q);
        this.flush(q);
      }
    }
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([this.drain(), deadline]);
    clearTimeout(timer);
    this.abandoned = true;
    for (const q of this.topics.values()) {
      this.cancel(q);
      // A batch still in flight is counted when its append settles (appended, or dropped on failure).
      if (q.waiting.length > 0) {
        this.logger.error({ topic: q.topic, records: q.waiting.length }, 'prediction logger closed with records it could not append');
        this.dropped += q.waiting.length;
        q.waiting = [];
      }
    }
  }

  stats(): LoggerStats {
    let queued = 0;
    for (const q of this.topics.values()) queued += q.size;
    const base = { queued, appended: this.appended, dropped: this.dropped, failures: this.failures };
    return this.lastError === undefined ? base : { ...base, lastError: this.lastError };
  }

  private queue(topic: string): TopicQueue {
    let q = this.topics.get(topic);
    if (q === undefined) {
      q = new TopicQueue(topic, this.retryMs);
      this.topics.set(topic, q);
    }
    return q;
  }

  /** Flush after `delayMs`; 0 = once the current I/O callbacks are done (setImmediate). */
  private schedule(q: TopicQueue, delayMs: number): void {
    q.immediate = delayMs <= 0;
    q.timer = q.immediate ? setImmediate(() => this.flush(q)) : setTimeout(() => this.flush(q), delayMs);
  }

  private cancel(q: TopicQueue): void {
    if (q.timer === null) return;
    if (q.immediate) clearImmediate(q.timer as NodeJS.Immediate);
    else clearTimeout(q.timer as NodeJS.Timeout);
    q.timer = null;
  }

  private flush(q: TopicQueue): void {
    q.timer = null;
    if (q.inFlight === null) {
      if (q.waiting.length === 0) return this.settle(q);
      q.inFlight = q.waiting.length <= this.maxBatch ? q.waiting : q.waiting.slice(0, this.maxBatch);
      q.waiting = q.waiting.length <= this.maxBatch ? [] : q.waiting.slice(this.maxBatch);
    }
    const batch = q.inFlight;
    this.metrics?.logQueued.set({ topic: q.topic }, q.size);
    this.sink.append(q.topic, batch).then(
      () => {
        this.appended += batch.length;
        this.metrics?.logAppended.inc({ topic: q.topic }, batch.length);
        q.inFlight = null;
        q.retryMs = this.retryMs;
        this.next(q);
      },
      (e: unknown) => this.failed(q, batch, e),
    );
  }

  private failed(q: TopicQueue, batch: AppendRecord[], e: unknown): void {
    this.failures++;
    this.metrics?.logFailures.inc({ topic: q.topic });
    this.lastError = { message: errorMessage(e), at: new Date().toISOString() };
    if (isPctrError(e, 'PCTR_VALIDATION') || this.abandoned) {
      this.logger.error({ err: errorMessage(e), topic: q.topic, records: batch.length }, 'prediction batch not appended; dropping it');
      this.dropped += batch.length;
      this.metrics?.logDropped.inc({ topic: q.topic }, batch.length);
      q.inFlight = null;
      this.next(q);
      return;
    }
    if (this.failures === 1 || this.failures % 100 === 0) {
      this.logger.warn({ err: errorMessage(e), topic: q.topic, records: batch.length, retryInMs: q.retryMs, failures: this.failures }, 'prediction log append failed; retrying');
    }
    // The batch keeps its place (order within a topic is kept) and is tried again.
    this.schedule(q, q.retryMs);
    q.retryMs = Math.min(MAX_RETRY_MS, q.retryMs * 2);
  }

  private next(q: TopicQueue): void {
    if (q.waiting.length === 0) return this.settle(q);
    const full = q.waiting.length >= this.maxBatch || this.closed;
    this.schedule(q, full ? 0 : this.flushMs);
  }

  private settle(q: TopicQueue): void {
    this.metrics?.logQueued.set({ topic: q.topic }, 0);
    const waiters = q.idle;
    q.idle = [];
    for (const w of waiters) w();
  }

  private whenIdle(q: TopicQueue): Promise<void> {
    if (q.size === 0 && q.timer === null) return Promise.resolve();
    return new Promise((resolve) => q.idle.push(resolve));
  }
}
