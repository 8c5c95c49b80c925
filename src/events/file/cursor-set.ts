/**
 * Polling a set of partition cursors (one consumer's partitions, possibly of several topics): reads
 * share `max` fairly between partitions, and an empty poll waits until an append or commit in this
 * process wakes it, or checks the files every few milliseconds for writers in other processes.
 */
import type { Batch, LogRecord } from '../event-log.ts';
import { ReadBatch, expectedRecords } from '../read-batch.ts';
import { BytesSink, type FrameSink, type PartitionCursor, RecordSink } from './cursor.ts';
import { FileWindow } from './segment-io.ts';

/**
 * How often an idle poll looks at files another process may be appending to: every 2 ms right after
 * records arrived, backing off to 20 ms while the partitions stay quiet.
 */
const FOREIGN_CHECK_MIN_MS = 2;
const FOREIGN_CHECK_MAX_MS = 20;

export class CursorSet {
  readonly win = new FileWindow();
  private rotate = 0;
  private wakeWaiter: (() => void) | null = null;
  private closed = false;
  private checkEveryMs = FOREIGN_CHECK_MIN_MS;
  /** Records the last `pollEncoded` returned (sizes the next batch). */
  private lastPolled = 0;
  private readonly before: number[];

  constructor(
    readonly cursors: readonly PartitionCursor[],
    private readonly firstTopic: string,
  ) {
    this.before = new Array<number>(cursors.length).fill(0);
  }

  async poll(max: number, waitMs: number): Promise<Batch> {
    const records: LogRecord[] = [];
    const next = await this.fill(max, waitMs, new RecordSink(records));
    return { records, nextOffsets: next.get(this.firstTopic) ?? new Map(), nextOffsetsByTopic: next };
  }

  /** `poll` into an EncodedBatch: values stay in the window buffers, which the batch keeps. */
  async pollEncoded(max: number, waitMs: number): Promise<ReadBatch> {
    const batch = new ReadBatch(expectedRecords(this.lastPolled, max));
    batch.setNext(await this.fill(max, waitMs, new BytesSink(batch)), this.firstTopic);
    this.lastPolled = batch.length;
    return batch;
  }

  /** Wake a waiting poll (on close). */
  close(): void {
    this.closed = true;
    this.wakeWaiter?.();
  }

  /** Read up to `max` records into `out`, waiting up to `waitMs` for the first; returns the next offsets by topic. */
  private async fill(max: number, waitMs: number, out: FrameSink): Promise<Map<string, Map<number, number>>> {
    // Reads are synchronous. Deferring this one to the caller's next await means a caller that polls
    // ahead (the join asks for batch k+1 before it joins batch k) reads after it has used batch k,
    // whose bytes are then still in the CPU cache; read first, they would be evicted by the new ones.
    await Promise.resolve();
    const deadline = Date.now() + Math.max(0, waitMs);
    for (;;) {
      if (this.closed) return new Map();
      if (max > 0) this.readRound(max, out);
      if (out.length > 0) {
        this.checkEveryMs = FOREIGN_CHECK_MIN_MS;
        return this.nextOffsets();
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) return new Map();
      await this.waitForChange(remaining);
    }
  }

  private readRound(max: number, out: FrameSink): void {
    const n = this.cursors.length;
    const quota = Math.ceil(max / n);
    const first = this.rotate++ % n;
    for (let k = 0; k < n; k++) this.before[k] = this.cursors[k].offset;
    for (let k = 0; k < n && out.length < max; k++) {
      this.cursors[(first + k) % n].read(Math.min(quota, max - out.length), out, this.win);
    }
    for (let k = 0; k < n && out.length < max; k++) {
      this.cursors[(first + k) % n].read(max - out.length, out, this.win);
    }
  }

  /** Per topic and partition, where the cursors that moved in the last round now are. */
  private nextOffsets(): Map<string, Map<number, number>> {
    const byTopic = new Map<string, Map<number, number>>();
    for (let k = 0; k < this.cursors.length; k++) {
      const c = this.cursors[k];
      if (c.offset === this.before[k]) continue;
      let m = byTopic.get(c.part.topic);
      if (!m) byTopic.set(c.part.topic, (m = new Map()));
      m.set(c.part.partition, c.offset);
    }
    return byTopic;
  }

  private waitForChange(ms: number): Promise<void> {
    const foreign = this.cursors.some((c) => c.part.writer === null);
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        for (const c of this.cursors) c.part.offChange(done);
        this.wakeWaiter = null;
        resolve();
      };
      const timer = setTimeout(done, foreign ? Math.min(ms, this.checkEveryMs) : ms);
      if (foreign) this.checkEveryMs = Math.min(FOREIGN_CHECK_MAX_MS, this.checkEveryMs * 2);
      for (const c of this.cursors) c.part.onChange(done);
      this.wakeWaiter = done;
    });
  }
}
