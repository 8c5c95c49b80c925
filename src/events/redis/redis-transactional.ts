/**
 * Exactly-once processing on Redis. Input is read with XREAD from the checkpointed offsets (the
 * checkpoint, not a consumer group, is the source of truth, so nothing needs acknowledging), and a
 * commit is one MULTI/EXEC: the outputs (XADDs), the checkpoint hash (input offsets, state) and the
 * id's committed offsets for lag — all or nothing, for every partition at once.
 * Fencing: `restore` bumps an epoch per partition; a commit WATCHes the epochs and aborts with
 * PCTR_CONFLICT if a newer instance restored since, so a zombie cannot commit over its successor.
 * Reads and commits go through data-path connections (RESP encoded and parsed as bytes).
 */
import { PctrError } from '../../core/index.ts';
import { groupOutputs } from '../common.ts';
import type { Batch, Checkpoint, EncodedBatch, LogRecord, TransactionalCommit, TransactionalConsumer } from '../event-log.ts';
import { ReadBatch, expectedRecords } from '../read-batch.ts';
import { recordSource } from '../record-buffer.ts';
import type { RedisLogContext } from './redis-context.ts';
import { BytesEntries, type EntrySink, RecordEntries, afterId, readEntries, redisError, writeXadds } from './redis-io.ts';
import type { RespConnection } from './resp-connection.ts';
import { CommandWriter, type RespReader } from './resp.ts';

interface Stream {
  readonly key: string;
  readonly topicIndex: number;
  readonly topic: string;
  readonly partition: number;
  /** Next offset to read. */
  next: number;
}

export class RedisTransactional implements TransactionalConsumer {
  /** Blocking reads of the input. */
  private readonly reader: RespConnection;
  /** Restore, replay and commits (WATCH needs the commit's own connection). */
  private readonly writer: RespConnection;
  private readonly streams: Stream[] = [];
  private readonly byKey = new Map<string, Stream>();
  private readonly epochs = new Map<number, number>();
  private restored = false;
  private chain: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** Records the last `pollEncoded` returned (sizes the next batch). */
  private lastPolled = 0;

  constructor(
    private readonly ctx: RedisLogContext,
    private readonly topics: readonly string[],
    private readonly id: string,
    readonly partitions: readonly number[],
  ) {
    for (const p of partitions) {
      for (const [topicIndex, topic] of topics.entries()) {
        const s = { key: ctx.keys.stream(topic, p), topicIndex, topic, partition: p, next: 0 };
        this.streams.push(s);
        this.byKey.set(s.key, s);
      }
    }
    this.reader = ctx.dataConnection(`tx-${id}-read`);
    this.writer = ctx.dataConnection(`tx-${id}-commit`);
  }

  restore(): Promise<Checkpoint> {
    return this.serial(() => this.doRestore());
  }

  private async doRestore(): Promise<Checkpoint> {
    this.ensureOpen();
    const w = new CommandWriter();
    for (const p of this.partitions) w.command('INCR', this.ctx.keys.epoch(this.id, p));
    for (const p of this.partitions) w.command('HGETALL', this.ctx.keys.checkpoint(this.id, p));
    const n = this.partitions.length;
    let res: { epochs: number[]; hashes: Map<string, string>[] };
    try {
      res = await this.writer.request(w.finish(), 2 * n, (r) => {
        const epochs = this.partitions.map(() => r.int());
        const hashes = this.partitions.map(() => {
          const h = new Map<string, string>();
          const len = r.array();
          for (let i = 0; i < len; i += 2) h.set(r.bulk() as string, r.bulk() as string);
          return h;
        });
        return { epochs, hashes };
      });
    } catch (e) {
      throw redisError(e, `restoring transactional consumer '${this.id}'`, this.ctx.where);
    }
    const state = new Map<number, string | null>();
    const byTopic = new Map<string, Map<number, number>>(this.topics.map((t) => [t, new Map<number, number>()]));
    this.partitions.forEach((p, i) => {
      this.epochs.set(p, res.epochs[i]);
      const h = res.hashes[i];
      state.set(p, h.get('state') ?? null);
      for (const s of this.streams) {
        if (s.partition !== p) continue;
        const at = h.get(`in:${s.topic}`);
        s.next = at === undefined ? 0 : Number(at);
        byTopic.get(s.topic)?.set(p, s.next);
      }
    });
    this.restored = true;
    return { state, offsets: byTopic.get(this.topics[0]) ?? new Map(), offsetsByTopic: byTopic };
  }

  async poll(max: number, waitMs: number): Promise<Batch> {
    const records: LogRecord[] = [];
    const next = await this.read(max, waitMs, new RecordEntries(records), false);
    return { records, nextOffsets: next.get(this.topics[0]) ?? new Map(), nextOffsetsByTopic: next };
  }

  async pollEncoded(max: number, waitMs: number): Promise<EncodedBatch> {
    const batch = new ReadBatch(expectedRecords(this.lastPolled, max));
    batch.setNext(await this.read(max, waitMs, new BytesEntries(batch), true), this.topics[0]);
    this.lastPolled = batch.length;
    return batch;
  }

  /**
   * XREAD from every input stream into `out`; returns the next offsets by topic. `own` copies the
   * reply out of the connection's buffer first, for sinks that keep spans of it.
   */
  private async read(max: number, waitMs: number, out: EntrySink, own: boolean): Promise<Map<string, Map<number, number>>> {
    if (!this.restored) await this.restore();
    const streams = this.streams;
    const count = Math.max(1, Math.ceil(max / streams.length));
    const w = new CommandWriter().begin(4 + (waitMs > 0 ? 2 : 0) + 2 * streams.length).arg('XREAD').arg('COUNT').arg(String(count));
    if (waitMs > 0) w.arg('BLOCK').arg(String(Math.ceil(waitMs)));
    w.arg('STREAMS');
    for (const s of streams) w.arg(s.key);
    for (const s of streams) w.arg(afterId(s.next));
    const byTopic = new Map<string, Map<number, number>>();
    try {
      // COUNT applies per stream, so a reply may exceed `max`; what is past it is read again next poll.
      await this.reader.request(w.finish(), 1, (r) => {
        if (own) r.own();
        this.readStreams(r, max, out, byTopic);
      });
    } catch (e) {
      if (!this.closed) throw redisError(e, `reading input of transactional consumer '${this.id}'`, this.ctx.where);
    }
    return byTopic;
  }

  /** An XREAD reply (null when the wait ended with nothing) into `out` and next offsets. */
  private readStreams(r: RespReader, max: number, out: EntrySink, byTopic: Map<string, Map<number, number>>): void {
    const n = r.array();
    for (let i = 0; i < n; i++) {
      r.array();
      const s = this.byKey.get(r.bulk() as string);
      const entries = r.array();
      if (!s) {
        for (let e = 0; e < entries; e++) r.skip();
        continue;
      }
      const got = readEntries(r, entries, s, out, max);
      if (got.taken === 0) continue;
      s.next = got.next;
      let m = byTopic.get(s.topic);
      if (!m) byTopic.set(s.topic, (m = new Map()));
      m.set(s.partition, s.next);
    }
  }

  async replay(partition: number, fromOffset: number, toOffset: number, max: number, topic = this.topics[0]): Promise<LogRecord[]> {
    this.checkOwned(partition, 'replay');
    if (!this.topics.includes(topic)) throw new PctrError('PCTR_VALIDATION', `replay: topic ${topic} is not an input of transactional consumer '${this.id}' (${this.topics.join(', ')})`);
    const out: LogRecord[] = [];
    if (toOffset <= fromOffset || max <= 0) return out;
    const w = new CommandWriter().command('XRANGE', this.ctx.keys.stream(topic, partition), `1-${fromOffset}`, `1-${toOffset - 1}`, 'COUNT', max);
    try {
      const stream = { topicIndex: this.topics.indexOf(topic), topic, partition };
      await this.writer.request(w.finish(), 1, (r) => readEntries(r, r.array(), stream, new RecordEntries(out), max));
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
    const keys = this.ctx.keys;

    // Everything is encoded (and every output's partition checked) before anything is sent.
    const w = new CommandWriter().command('MULTI');
    for (const o of tx.outputs) {
      if (o.records.length === 0) continue;
      const src = recordSource(o.records);
      const prefixes = this.ctx.xadds.of(o.topic);
      for (const [p, idx] of groupOutputs(this.id, this.partitions, this.ctx.config.partitions, o.topic, src)) writeXadds(w, prefixes[p], src, idx, 0, idx.length);
    }
    for (const [p, m] of inputs) {
      const fields: string[] = [];
      for (const [t, off] of m) fields.push(`in:${t}`, String(off));
      w.command('HSET', keys.checkpoint(this.id, p), ...fields);
      for (const [t, off] of m) w.command('HSET', keys.offsets(this.id, t), String(p), String(off));
    }
    for (const [p, st] of tx.state) w.command('HSET', keys.checkpoint(this.id, p), 'state', st);
    w.command('EXEC');
    const queued = w.commands - 2;

    const epochKeys = this.partitions.map((p) => keys.epoch(this.id, p));
    try {
      const current = await this.writer.request(new CommandWriter().command('WATCH', ...epochKeys).command('MGET', ...epochKeys).finish(), 2, (r) => {
        r.simple();
        return r.value() as (string | null)[];
      });
      const stale = this.partitions.find((p, i) => Number(current[i]) !== this.epochs.get(p));
      if (stale !== undefined) {
        await this.writer.request(new CommandWriter().command('UNWATCH').finish(), 1, (r) => r.simple());
        throw this.fenced(stale);
      }
      const applied = await this.writer.request(w.finish(), queued + 2, (r) => readExec(r, queued));
      if (!applied) throw this.fenced(this.partitions[0]);
    } catch (e) {
      throw redisError(e, `committing transactional consumer '${this.id}'`, this.ctx.where);
    }
  }

  private fenced(p: number): PctrError {
    return new PctrError('PCTR_CONFLICT', `transactional consumer '${this.id}' partition ${p} was restored by a newer instance; this one is fenced and may not commit`, { details: { id: this.id, partition: p } });
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
    this.reader.close();
    this.writer.close();
    this.ctx.detach(this);
  }
}

/**
 * The replies of MULTI, `queued` commands and EXEC: false when EXEC was aborted by a WATCHed key;
 * throws the first error (a command refused when queued, or failing when run).
 */
function readExec(r: RespReader, queued: number): boolean {
  r.simple();
  for (let i = 0; i < queued; i++) r.simple();
  const n = r.array();
  if (n < 0) return false;
  for (let i = 0; i < n; i++) {
    if (r.peek() === 45 /* - */) r.simple();
    else r.skip();
  }
  return true;
}
