/**
 * Exactly-once processing on Redis. Input is read with XREAD from the checkpointed offsets (the
 * checkpoint, not a consumer group, is the source of truth, so nothing needs acknowledging), and a
 * commit is one MULTI/EXEC: the outputs (append script), the checkpoint hash (input offsets, state)
 * and the id's committed offsets for lag — all or nothing, for every partition at once.
 * Fencing: `restore` bumps an epoch per partition; a commit WATCHes the epochs and aborts with
 * PCTR_CONFLICT if a newer instance restored since, so a zombie cannot commit over its successor.
 */
import { PctrError, partitionOf } from '../../core/index.ts';
import type { AppendRecord, Batch, Checkpoint, LogRecord, TransactionalCommit, TransactionalConsumer } from '../event-log.ts';
import type { RedisLogContext } from './redis-context.ts';
import { APPEND_CHUNK, afterId, packRecords, redisError, toRecords, type RedisWithAppend } from './redis-io.ts';

type StreamReply = [string, [string, string[] | null][]][] | null;

export class RedisTransactional implements TransactionalConsumer {
  private readonly reader: RedisWithAppend;
  private readonly writer: RedisWithAppend;
  /** Stream key → [topic, partition], and the next offset to read per stream. */
  private readonly streams: { key: string; topic: string; partition: number; next: number }[] = [];
  private readonly epochs = new Map<number, number>();
  private readonly scratch = { buf: Buffer.allocUnsafe(1 << 20) };
  private restored = false;
  private chain: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly ctx: RedisLogContext,
    private readonly topics: readonly string[],
    private readonly id: string,
    readonly partitions: readonly number[],
  ) {
    for (const p of partitions) for (const topic of topics) this.streams.push({ key: ctx.keys.stream(topic, p), topic, partition: p, next: 0 });
    this.reader = ctx.connection(`tx-${id}-read`);
    this.writer = ctx.connection(`tx-${id}-commit`);
  }

  restore(): Promise<Checkpoint> {
    return this.serial(() => this.doRestore());
  }

  private async doRestore(): Promise<Checkpoint> {
    this.ensureOpen();
    const pipe = this.writer.pipeline();
    for (const p of this.partitions) pipe.incr(this.ctx.keys.epoch(this.id, p));
    for (const p of this.partitions) pipe.hgetall(this.ctx.keys.checkpoint(this.id, p));
    let res: [Error | null, unknown][] | null;
    try {
      res = await pipe.exec();
      const failed = res?.find(([err]) => err);
      if (failed) throw failed[0];
    } catch (e) {
      throw redisError(e, `restoring transactional consumer '${this.id}'`, this.ctx.where);
    }
    const n = this.partitions.length;
    const state = new Map<number, string | null>();
    const byTopic = new Map<string, Map<number, number>>(this.topics.map((t) => [t, new Map<number, number>()]));
    this.partitions.forEach((p, i) => {
      this.epochs.set(p, Number(res?.[i][1]));
      const h = (res?.[n + i][1] ?? {}) as Record<string, string>;
      state.set(p, h.state ?? null);
      for (const s of this.streams) {
        if (s.partition !== p) continue;
        const at = h[`in:${s.topic}`];
        s.next = at === undefined ? 0 : Number(at);
        byTopic.get(s.topic)?.set(p, s.next);
      }
    });
    this.restored = true;
    return { state, offsets: byTopic.get(this.topics[0]) ?? new Map(), offsetsByTopic: byTopic };
  }

  async poll(max: number, waitMs: number): Promise<Batch> {
    if (!this.restored) await this.restore();
    const count = Math.max(1, Math.ceil(max / this.streams.length));
    const block = waitMs > 0 ? ['BLOCK', Math.ceil(waitMs)] : [];
    const records: LogRecord[] = [];
    let reply: StreamReply;
    try {
      reply = (await (this.reader.xread as (...a: (string | number)[]) => Promise<unknown>)('COUNT', count, ...block, 'STREAMS', ...this.streams.map((s) => s.key), ...this.streams.map((s) => afterId(s.next)))) as StreamReply;
    } catch (e) {
      if (this.closed) reply = null;
      else throw redisError(e, `reading input of transactional consumer '${this.id}'`, this.ctx.where);
    }
    const byTopic = new Map<string, Map<number, number>>();
    for (const [key, all] of reply ?? []) {
      const s = this.streams.find((x) => x.key === key);
      // COUNT applies per stream, so the reply may exceed `max`; the rest is read again next poll.
      const entries = all.slice(0, max - records.length);
      if (!s || entries.length === 0) continue;
      toRecords(s.topic, s.partition, entries, records);
      s.next = Number(entries[entries.length - 1][0].split('-')[1]) + 1;
      let m = byTopic.get(s.topic);
      if (!m) byTopic.set(s.topic, (m = new Map()));
      m.set(s.partition, s.next);
    }
    return { records, nextOffsets: byTopic.get(this.topics[0]) ?? new Map(), nextOffsetsByTopic: byTopic };
  }

  async replay(partition: number, fromOffset: number, toOffset: number, max: number, topic = this.topics[0]): Promise<LogRecord[]> {
    this.checkOwned(partition, 'replay');
    if (!this.topics.includes(topic)) throw new PctrError('PCTR_VALIDATION', `replay: topic ${topic} is not an input of transactional consumer '${this.id}' (${this.topics.join(', ')})`);
    const out: LogRecord[] = [];
    if (toOffset <= fromOffset || max <= 0) return out;
    try {
      const entries = (await this.writer.xrange(this.ctx.keys.stream(topic, partition), `1-${fromOffset}`, `1-${toOffset - 1}`, 'COUNT', max)) as [string, string[]][];
      toRecords(topic, partition, entries, out);
    } catch (e) {
      throw redisError(e, `replaying ${topic}/${partition}`, this.ctx.where);
    }
    return out;
  }

  commit(tx: TransactionalCommit): Promise<void> {
    return this.serial(() => this.doCommit(tx));
  }

  private async doCommit(tx: TransactionalCommit): Promise<void> {
    this.ensureOpen();
    if (!this.restored) await this.doRestore();
    const inputs = new Map<number, Map<string, number>>();
    const addInputs = (topic: string, offsets: ReadonlyMap<number, number>): void => {
      for (const [p, off] of offsets) {
        this.checkOwned(p, `commit offsets of ${topic}`);
        let m = inputs.get(p);
        if (!m) inputs.set(p, (m = new Map()));
        m.set(topic, off);
      }
    };
    addInputs(this.topics[0], tx.offsets);
    for (const [t, offsets] of tx.offsetsByTopic ?? []) {
      if (!this.topics.includes(t)) throw new PctrError('PCTR_VALIDATION', `commit: topic ${t} is not an input of transactional consumer '${this.id}'`);
      addInputs(t, offsets);
    }
    for (const p of tx.state.keys()) this.checkOwned(p, 'commit state');
    const outputs = tx.outputs.filter((o) => o.records.length > 0).map((o) => ({ topic: o.topic, groups: this.groupByPartition(o.topic, o.records), records: o.records }));

    const epochKeys = this.partitions.map((p) => this.ctx.keys.epoch(this.id, p));
    try {
      await this.writer.watch(...epochKeys);
      const current = await this.writer.mget(...epochKeys);
      const stale = this.partitions.find((p, i) => Number(current[i]) !== this.epochs.get(p));
      if (stale !== undefined) {
        await this.writer.unwatch();
        throw this.fenced(stale);
      }
      const multi = this.writer.multi() as unknown as RedisWithAppend & { exec(): Promise<[Error | null, unknown][] | null> };
      for (const o of outputs) {
        for (const [p, idx] of o.groups) {
          for (let s = 0; s < idx.length; s += APPEND_CHUNK) {
            void multi.xappend(this.ctx.keys.stream(o.topic, p), this.ctx.config.maxLen, packRecords(o.records, idx, s, Math.min(APPEND_CHUNK, idx.length - s), this.scratch));
          }
        }
      }
      for (const [p, m] of inputs) {
        const fields: string[] = [];
        for (const [t, off] of m) fields.push(`in:${t}`, String(off));
        void multi.hset(this.ctx.keys.checkpoint(this.id, p), ...fields);
        for (const [t, off] of m) void multi.hset(this.ctx.keys.offsets(this.id, t), String(p), String(off));
      }
      for (const [p, st] of tx.state) void multi.hset(this.ctx.keys.checkpoint(this.id, p), 'state', st);
      const res = await multi.exec();
      if (res === null) throw this.fenced(this.partitions[0]);
      const failed = res.find(([err]) => err);
      if (failed) throw failed[0];
    } catch (e) {
      throw redisError(e, `committing transactional consumer '${this.id}'`, this.ctx.where);
    }
  }

  private fenced(p: number): PctrError {
    return new PctrError('PCTR_CONFLICT', `transactional consumer '${this.id}' partition ${p} was restored by a newer instance; this one is fenced and may not commit`, { details: { id: this.id, partition: p } });
  }

  private groupByPartition(topic: string, records: readonly AppendRecord[]): Map<number, Int32Array> {
    const lists = new Map<number, number[]>();
    for (let i = 0; i < records.length; i++) {
      const p = partitionOf(records[i].key, this.ctx.config.partitions);
      if (!this.partitions.includes(p)) {
        throw new PctrError('PCTR_VALIDATION', `transactional consumer '${this.id}' owns partitions [${this.partitions.join(', ')}] but output to ${topic} with key ${JSON.stringify(records[i].key)} belongs to partition ${p}; outputs must be keyed into the partition of their input`, {
          details: { topic, partition: p, key: records[i].key },
        });
      }
      let l = lists.get(p);
      if (!l) lists.set(p, (l = []));
      l.push(i);
    }
    return new Map([...lists].map(([p, l]) => [p, Int32Array.from(l)]));
  }

  private checkOwned(p: number, what: string): void {
    if (!this.partitions.includes(p)) {
      throw new PctrError('PCTR_VALIDATION', `${what}: partition ${p} is not one of transactional consumer '${this.id}''s partitions [${this.partitions.join(', ')}]`);
    }
  }

  private ensureOpen(): void {
    if (this.closed) throw new PctrError('PCTR_CONFLICT', `transactional consumer '${this.id}' is closed`);
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.catch(() => undefined).then(fn);
    this.chain = run;
    return run;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.chain.catch(() => undefined);
    this.closed = true;
    this.reader.disconnect();
    this.writer.disconnect();
    this.ctx.detach(this);
  }
}
