/**
 * The traffic driver's clicks in flight: each is queued at its event time (impression time +
 * the simulator's delay) and POSTed, in batches and in time order, once the clock has passed it,
 * one POST at a time so that clicks reach the gateway in the order users made them. A batch the
 * gateway refuses is counted, not retried: to the join it is a click that never came.
 */
import type { Clock } from '../core/index.ts';
import { ClickQueue } from './click-queue.ts';

export interface ClickEvent {
  readonly type: 'click';
  readonly impressionId: string;
  readonly ts: number;
}

export interface ClickSenderOptions {
  /** Sends one batch; false when it failed. */
  readonly post: (events: ClickEvent[]) => Promise<boolean>;
  readonly clock: Clock;
  readonly batch: number;
}

export interface ClickSenderStats {
  readonly sent: number;
  readonly duplicatesSent: number;
  readonly pending: number;
  readonly failures: number;
}

export class ClickSender {
  private readonly queue = new ClickQueue();
  /** Impression id per queued click; a duplicate's ref is negative. */
  private readonly ids = new Map<number, string>();
  private nextRef = 1;
  private sending: Promise<void> | null = null;
  private counts = { sent: 0, duplicatesSent: 0, failures: 0 };

  constructor(private readonly opts: ClickSenderOptions) {}

  add(impressionId: string, ts: number, duplicate: boolean): void {
    const ref = duplicate ? -this.nextRef : this.nextRef;
    this.nextRef++;
    this.ids.set(ref, impressionId);
    this.queue.push(ts, ref);
  }

  /** Start sending the clicks that are due, unless a send is already under way (it picks them up). */
  flush(): void {
    if (this.sending !== null || this.queue.peekTs() > this.opts.clock.now()) return;
    this.sending = this.sendUntil(() => this.opts.clock.now()).finally(() => (this.sending = null));
  }

  /**
   * After the last request: wait for the send under way, then send what is due — or, given
   * `advance`, every pending click, moving the clock to each batch's last time first.
   */
  async finish(advance: ((ts: number) => void) | null): Promise<void> {
    await this.sending;
    if (advance === null) {
      await this.sendUntil(() => this.opts.clock.now());
      return;
    }
    await this.sendUntil(() => Infinity, advance);
  }

  stats(): ClickSenderStats {
    return { ...this.counts, pending: this.queue.size };
  }

  private async sendUntil(limit: () => number, advance?: (ts: number) => void): Promise<void> {
    for (;;) {
      const until = limit();
      const events: ClickEvent[] = [];
      let duplicates = 0;
      while (events.length < this.opts.batch && this.queue.size > 0 && this.queue.peekTs() <= until) {
        this.queue.pop();
        const ref = this.queue.poppedRef;
        events.push({ type: 'click', impressionId: this.ids.get(ref)!, ts: this.queue.poppedTs });
        this.ids.delete(ref);
        if (ref < 0) duplicates++;
      }
      if (events.length === 0) return;
      advance?.(events[events.length - 1].ts);
      if (await this.opts.post(events)) {
        this.counts.sent += events.length - duplicates;
        this.counts.duplicatesSent += duplicates;
      } else {
        this.counts.failures++;
      }
    }
  }
}
