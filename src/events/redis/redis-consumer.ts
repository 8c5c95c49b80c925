/**
 * A consumer-group member on Redis Streams: each partition's stream has the group, created at the
 * start (`0`) or the end (`$`) on first subscribe. The first polls re-deliver this consumer's
 * pending entries (delivered before a restart, never acknowledged), then new ones (`>`). Commit
 * XACKs what was delivered below the batch's offsets and records the offsets for lag, in one MULTI.
 */
import type { Batch, Consumer, LogRecord } from '../event-log.ts';
import type { RedisLogContext } from './redis-context.ts';
import type { Redis } from 'ioredis';
import { redisError, toRecords } from './redis-io.ts';

/** One name for every member: a partition has one reader at a time, and its pending entries follow the partition. */
const CONSUMER = 'c';

type StreamReply = [string, [string, string[] | null][]][] | null;

export class RedisConsumer implements Consumer {
  private readonly conn: Redis;
  private readonly ready: Promise<void>;
  private readonly keys: string[];
  /** Partitions whose pending entries are still being re-delivered, with the id to continue after. */
  private readonly pending = new Map<number, string>();
  private readonly unacked = new Map<number, number[]>();
  private readonly committed = new Map<number, number>();
  private readonly buffered: LogRecord[] = [];
  private closed = false;

  constructor(
    private readonly ctx: RedisLogContext,
    private readonly topic: string,
    private readonly group: string,
    readonly partitions: readonly number[],
    from: 'earliest' | 'latest',
  ) {
    this.keys = partitions.map((p) => ctx.keys.stream(topic, p));
    for (const p of partitions) {
      this.pending.set(p, '0-0');
      this.unacked.set(p, []);
    }
    this.conn = ctx.connection(`consumer-${group}`);
    const creates = this.keys.map((k) =>
      ctx.main.xgroup('CREATE', k, group, from === 'latest' ? '$' : '0', 'MKSTREAM').catch((e: Error) => {
        if (!/BUSYGROUP/.test(e.message)) throw e;
      }),
    );
    this.ready = Promise.all(creates).then(
      () => undefined,
      (e: unknown) => Promise.reject(redisError(e, `creating group ${group} on ${topic}`, ctx.where)),
    );
    this.ready.catch(() => undefined);
  }

  async poll(max: number, waitMs: number): Promise<Batch> {
    await this.ready;
    const out: LogRecord[] = this.buffered.splice(0, max);
    try {
      if (out.length < max && this.pending.size > 0) await this.readPending(max - out.length, out);
      if (out.length === 0 && this.pending.size === 0 && !this.closed) await this.readNew(max, waitMs, out);
    } catch (e) {
      if (this.closed) return this.batch(out);
      throw redisError(e, `reading ${this.topic} as group ${this.group}`, this.ctx.where);
    }
    return this.batch(out);
  }

  private async readPending(max: number, out: LogRecord[]): Promise<void> {
    const parts = [...this.pending.keys()];
    const count = Math.max(1, Math.ceil(max / parts.length));
    const ids = parts.map((p) => this.pending.get(p) as string);
    const reply = (await this.conn.xreadgroup('GROUP', this.group, CONSUMER, 'COUNT', count, 'STREAMS', ...parts.map((p) => this.ctx.keys.stream(this.topic, p)), ...ids)) as StreamReply;
    const got = new Map<number, [string, string[] | null][]>();
    for (const [key, entries] of reply ?? []) got.set(this.partitionOfKey(key), entries);
    for (const p of parts) {
      const entries = got.get(p) ?? [];
      if (entries.length === 0) {
        this.pending.delete(p);
        continue;
      }
      this.pending.set(p, entries[entries.length - 1][0]);
      const trimmed = entries.filter((e) => e[1] === null).map((e) => e[0]);
      if (trimmed.length > 0) await this.conn.xack(this.ctx.keys.stream(this.topic, p), this.group, ...trimmed);
      this.take(p, entries, out, max);
    }
  }

  private async readNew(max: number, waitMs: number, out: LogRecord[]): Promise<void> {
    const count = Math.max(1, Math.ceil(max / this.keys.length));
    const block = waitMs > 0 ? ['BLOCK', Math.ceil(waitMs)] : [];
    const args = ['GROUP', this.group, CONSUMER, 'COUNT', count, ...block, 'STREAMS', ...this.keys, ...this.keys.map(() => '>')];
    const reply = (await (this.conn.xreadgroup as (...a: (string | number)[]) => Promise<unknown>)(...args)) as StreamReply;
    for (const [key, entries] of reply ?? []) this.take(this.partitionOfKey(key), entries, out, max);
  }

  private partitionOfKey(key: string): number {
    return this.partitions[this.keys.indexOf(key)];
  }

  /** Deliver entries of partition p, remembering them for XACK; what exceeds `max` waits for the next poll. */
  private take(p: number, entries: [string, string[] | null][], out: LogRecord[], max: number): void {
    const recs: LogRecord[] = [];
    toRecords(this.topic, p, entries, recs);
    const unacked = this.unacked.get(p) as number[];
    for (const r of recs) {
      unacked.push(r.offset);
      if (out.length < max) out.push(r);
      else this.buffered.push(r);
    }
  }

  private batch(records: LogRecord[]): Batch {
    const next = new Map<number, number>();
    for (const r of records) next.set(r.partition, r.offset + 1);
    return { records, nextOffsets: next, nextOffsetsByTopic: new Map([[this.topic, next]]) };
  }

  async commit(batch: Batch): Promise<void> {
    const acks: { p: number; next: number; done: number[] }[] = [];
    for (const [p, next] of batch.nextOffsets) {
      const done = this.unacked.get(p)?.filter((o) => o < next) ?? [];
      if (done.length > 0 && next > (this.committed.get(p) ?? -1)) acks.push({ p, next, done });
    }
    if (acks.length === 0) return;
    const tx = this.ctx.main.multi();
    for (const { p, next, done } of acks) {
      const key = this.ctx.keys.stream(this.topic, p);
      for (let i = 0; i < done.length; i += 10_000) tx.xack(key, this.group, ...done.slice(i, i + 10_000).map((o) => `1-${o}`));
      tx.hset(this.ctx.keys.offsets(this.group, this.topic), String(p), String(next));
    }
    try {
      const res = await tx.exec();
      const failed = res?.find(([err]) => err);
      if (failed) throw failed[0];
    } catch (e) {
      throw redisError(e, `committing group ${this.group} on ${this.topic}`, this.ctx.where);
    }
    for (const { p, next } of acks) {
      this.unacked.set(p, (this.unacked.get(p) as number[]).filter((o) => o >= next));
      this.committed.set(p, next);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.conn.disconnect();
    this.ctx.detach(this);
  }
}
