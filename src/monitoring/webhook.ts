/**
 * The outgoing webhook: alerts and model alias moves POSTed as JSON to one URL, signed with
 * HMAC-SHA256 so the receiver can check they come from pctr (`X-Pctr-Signature: sha256=<hex>` of
 * the exact body bytes, as GitHub does). `send` never blocks nor throws: deliveries wait in a
 * bounded queue (the oldest is dropped and counted when it is full) and go out one at a time, each
 * retried with exponential backoff on a network error, a timeout or a 5xx/429 answer; other 4xx
 * answers are final. Every outcome is counted and failures are logged.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { errorMessage, silentLogger, type Logger } from '../core/index.ts';

export type WebhookEventType = 'alert.fired' | 'alert.resolved' | 'model.promoted' | 'model.rolled_back' | 'model.alias_deleted';

export interface WebhookEvent {
  readonly id: string;
  readonly type: WebhookEventType;
  /** Wall-clock ISO time the event was queued. */
  readonly at: string;
  readonly data: unknown;
}

export type WebhookOutcome = 'delivered' | 'failed' | 'dropped';

export interface WebhookOptions {
  readonly url: string;
  /** HMAC key; with none the signature header is left out. */
  readonly secret: string;
  /** Tries per delivery (default 5). */
  readonly attempts?: number;
  /** Delay before the second try; doubles for each further one (default 500 ms). */
  readonly backoffMs?: number;
  readonly timeoutMs?: number;
  readonly maxQueue?: number;
  readonly logger?: Logger;
  /** Called with each delivery's outcome (metrics). */
  readonly onOutcome?: (outcome: WebhookOutcome, type: WebhookEventType) => void;
}

/** `sha256=<hex>` of HMAC-SHA256(secret, body). */
export function signature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export class Webhook {
  private readonly opts: Required<Omit<WebhookOptions, 'onOutcome' | 'logger'>> & Pick<WebhookOptions, 'onOutcome'>;
  private readonly logger: Logger;
  private readonly queue: WebhookEvent[] = [];
  private draining: Promise<void> | null = null;
  private closed = false;
  private readonly stopping = new AbortController();
  readonly stats = { delivered: 0, failed: 0, dropped: 0 };

  constructor(opts: WebhookOptions) {
    this.opts = {
      url: opts.url,
      secret: opts.secret,
      attempts: opts.attempts ?? 5,
      backoffMs: opts.backoffMs ?? 500,
      timeoutMs: opts.timeoutMs ?? 5000,
      maxQueue: opts.maxQueue ?? 1000,
      onOutcome: opts.onOutcome,
    };
    this.logger = opts.logger ?? silentLogger;
  }

  /** Queue an event; returns at once. */
  send(type: WebhookEventType, data: unknown): void {
    if (this.closed) return;
    if (this.queue.length >= this.opts.maxQueue) {
      const dropped = this.queue.shift()!;
      this.outcome('dropped', dropped.type);
      this.logger.warn({ type: dropped.type, id: dropped.id }, 'webhook queue full: oldest event dropped');
    }
    this.queue.push({ id: randomUUID(), type, at: new Date().toISOString(), data });
    this.draining ??= this.drain().finally(() => (this.draining = null));
  }

  /** Resolves when every queued event has been delivered or given up on. */
  async idle(): Promise<void> {
    while (this.draining !== null) await this.draining;
  }

  /** Stop taking events; give those queued until `graceMs` to go out, then abandon the rest. */
  async close(graceMs = 2000): Promise<void> {
    this.closed = true;
    const timer = setTimeout(() => this.stopping.abort(), graceMs);
    timer.unref();
    await this.idle();
    clearTimeout(timer);
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0 && !this.stopping.signal.aborted) {
      const event = this.queue.shift()!;
      const ok = await this.deliver(event);
      this.outcome(ok ? 'delivered' : 'failed', event.type);
    }
    // Closing cut the grace period short: what is left is abandoned, and counted.
    for (const event of this.queue.splice(0)) this.outcome('dropped', event.type);
  }

  private async deliver(event: WebhookEvent): Promise<boolean> {
    const body = JSON.stringify(event);
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-pctr-event': event.type, 'x-pctr-delivery': event.id };
    if (this.opts.secret !== '') headers['x-pctr-signature'] = signature(this.opts.secret, body);
    let lastError = '';
    for (let attempt = 1; attempt <= this.opts.attempts; attempt++) {
      if (attempt > 1 && !(await this.pause(this.opts.backoffMs * 2 ** (attempt - 2)))) break;
      try {
        const res = await fetch(this.opts.url, { method: 'POST', headers, body, signal: AbortSignal.any([AbortSignal.timeout(this.opts.timeoutMs), this.stopping.signal]) });
        await res.arrayBuffer();
        if (res.ok) return true;
        lastError = `HTTP ${res.status}`;
        if (res.status < 500 && res.status !== 429) break;
      } catch (e) {
        lastError = errorMessage(e);
      }
    }
    this.logger.error({ type: event.type, id: event.id, url: this.opts.url, err: lastError }, 'webhook delivery failed');
    return false;
  }

  /** Backoff between tries; false when the webhook is closing. */
  private pause(ms: number): Promise<boolean> {
    const signal = this.stopping.signal;
    if (signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve(!signal.aborted);
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  private outcome(outcome: WebhookOutcome, type: WebhookEventType): void {
    this.stats[outcome]++;
    this.opts.onOutcome?.(outcome, type);
  }
}
