/**
 * Exactly-once processing on the file log. A commit, per partition p it touches:
 *   1. appends the outputs for partition p to the output topics (the consumer claims each output
 *      partition first: its `txn.json` marker hides everything past the committed end from readers),
 *      and fsyncs them;
 *   2. replaces `.tx/<id>/<p>.ckpt` atomically: input offsets, output end offsets, state — the commit point;
 *   3. moves each output partition's committed end to the new end, waking readers.
 * A crash before 2 leaves output past the committed end: `restore` cuts it back to the checkpoint.
 * A crash between 2 and 3 leaves the marker behind: `restore` moves it forward from the checkpoint.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PctrError } from '../../core/index.ts';
import { groupOutputs } from '../common.ts';
import type { Batch, Checkpoint, EncodedBatch, LogRecord, TransactionalCommit, TransactionalConsumer } from '../event-log.ts';
import { recordSource } from '../record-buffer.ts';
import type { FileLogContext } from './context.ts';
import { PartitionCursor, RecordSink } from './cursor.ts';
import { CursorSet } from './cursor-set.ts';
import { fsError } from './fs-util.ts';
import { FileLock } from './lock.ts';
import { type CheckpointFile, checkpointDir, readCheckpoint, writeCheckpoint } from './offset-files.ts';
import type { PartitionWriter } from './partition-writer.ts';
import { FileWindow } from './segment-io.ts';

const EMPTY: CheckpointFile = { inputs: {}, outputs: {}, state: null };

export class FileTransactional implements TransactionalConsumer {
  private readonly set: CursorSet;
  private readonly cursors = new Map<string, PartitionCursor>();
  private readonly replayCursors = new Map<string, PartitionCursor>();
  private readonly replayWin = new FileWindow(1 << 18);
  private readonly ckpts = new Map<number, CheckpointFile>();
  private locks: FileLock[] = [];
  /** Output partitions this consumer claimed, closed with it so a successor in another process can take them. */
  private readonly claimed = new Set<string>();
  private restored = false;
  private chain: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly ctx: FileLogContext,
    private readonly topics: readonly string[],
    private readonly id: string,
    readonly partitions: readonly number[],
  ) {
    const list: PartitionCursor[] = [];
    for (const p of partitions) {
      for (const [i, t] of topics.entries()) {
        const c = new PartitionCursor(ctx.partition(t, p), ctx.logger, i);
        this.cursors.set(`${t}/${p}`, c);
        list.push(c);
      }
    }
    this.set = new CursorSet(list, topics[0]);
  }

  restore(): Promise<Checkpoint> {
    return this.serial(() => this.doRestore());
  }

  private doRestore(): Checkpoint {
    this.ensureOpen();
    if (!this.restored) {
      const dir = checkpointDir(this.ctx.root, this.id);
      mkdirSync(dir, { recursive: true });
      try {
        for (const p of this.partitions) this.locks.push(FileLock.acquire(join(dir, `${p}.lock`), `transactional consumer '${this.id}' partition ${p}`));
        for (const p of this.partitions) {
          const ckpt = readCheckpoint(this.ctx.root, this.id, p) ?? EMPTY;
          this.ckpts.set(p, ckpt);
          this.cutUncommittedOutput(p, ckpt);
        }
      } catch (e) {
        this.releaseLocks();
        throw e;
      }
      this.restored = true;
    }
    const state = new Map<number, string | null>();
    const byTopic = new Map<string, Map<number, number>>(this.topics.map((t) => [t, new Map<number, number>()]));
    for (const p of this.partitions) {
      const ckpt = this.ckpts.get(p) ?? EMPTY;
      state.set(p, ckpt.state);
      for (const t of this.topics) {
        const c = this.cursors.get(`${t}/${p}`) as PartitionCursor;
        const at = ckpt.inputs[t];
        if (at === undefined) c.seekEarliest(this.set.win);
        else c.seek(at, this.set.win);
        byTopic.get(t)?.set(p, at ?? c.offset);
      }
    }
    return { state, offsets: byTopic.get(this.topics[0]) ?? new Map(), offsetsByTopic: byTopic };
  }

  /** Cut output this id wrote to partition p past its checkpoint, and publish the checkpointed end. */
  private cutUncommittedOutput(p: number, ckpt: CheckpointFile): void {
    for (const topic of this.ctx.topics()) {
      const marker = this.ctx.partition(topic, p).readMarker();
      if (marker?.owner !== this.id && ckpt.outputs[topic] === undefined) continue;
      const w = this.ctx.writer(topic, p);
      w.claim(this.id);
      this.claimed.add(`${topic}/${p}`);
      const end = ckpt.outputs[topic] ?? w.committedEnd;
      if (w.endOffset > end) {
        this.ctx.logger.warn({ topic, partition: p, id: this.id, cut: w.endOffset - end }, 'event log: discarding uncommitted transactional output');
      }
      w.truncateTo(end);
      if (w.committedEnd !== end) w.setCommittedEnd(end);
    }
  }

  async poll(max: number, waitMs: number): Promise<Batch> {
    if (!this.restored) await this.restore();
    return this.set.poll(max, waitMs);
  }

  async pollEncoded(max: number, waitMs: number): Promise<EncodedBatch> {
    if (!this.restored) await this.restore();
    return this.set.pollEncoded(max, waitMs);
  }

  async replay(partition: number, fromOffset: number, toOffset: number, max: number, topic = this.topics[0]): Promise<LogRecord[]> {
    if (!this.restored) await this.restore();
    this.checkOwned(partition, 'replay');
    if (!this.topics.includes(topic)) throw new PctrError('PCTR_VALIDATION', `replay: topic ${topic} is not an input of transactional consumer '${this.id}' (${this.topics.join(', ')})`);
    const key = `${topic}/${partition}`;
    let c = this.replayCursors.get(key);
    if (!c) {
      c = new PartitionCursor(this.ctx.partition(topic, partition), this.ctx.logger);
      this.replayCursors.set(key, c);
      c.seek(fromOffset, this.replayWin);
    } else if (c.offset !== fromOffset) {
      c.seek(fromOffset, this.replayWin);
    }
    const out: LogRecord[] = [];
    const n = Math.min(max, toOffset - c.offset);
    if (n > 0) c.read(n, new RecordSink(out), this.replayWin);
    return out;
  }

  commit(tx: TransactionalCommit): Promise<void> {
    return this.serial(() => this.doCommit(tx));
  }

  private async doCommit(tx: TransactionalCommit): Promise<void> {
    this.ensureOpen();
    if (!this.restored) this.doRestore();
    const inputs = new Map<number, Record<string, number>>();
    const addInputs = (topic: string, offsets: ReadonlyMap<number, number>): void => {
      for (const [p, off] of offsets) {
        this.checkOwned(p, `commit offsets of ${topic}`);
        let m = inputs.get(p);
        if (!m) inputs.set(p, (m = {}));
        m[topic] = off;
      }
    };
    addInputs(this.topics[0], tx.offsets);
    for (const [t, offsets] of tx.offsetsByTopic ?? []) {
      if (!this.topics.includes(t)) throw new PctrError('PCTR_VALIDATION', `commit: topic ${t} is not an input of transactional consumer '${this.id}'`);
      addInputs(t, offsets);
    }
    for (const p of tx.state.keys()) this.checkOwned(p, 'commit state');

    // Validate and claim everything before writing anything: a refused output must leave no bytes behind.
    const plan = tx.outputs
      .filter((o) => o.records.length > 0)
      .map((o) => {
        const src = recordSource(o.records);
        return { topic: o.topic, src, groups: groupOutputs(this.id, this.partitions, this.ctx.partitions, o.topic, src) };
      });
    const touched = new Map<number, Map<string, PartitionWriter>>();
    for (const { topic, groups } of plan) {
      for (const p of groups.keys()) {
        const w = this.ctx.writer(topic, p);
        w.claim(this.id);
        this.claimed.add(`${topic}/${p}`);
        let m = touched.get(p);
        if (!m) touched.set(p, (m = new Map()));
        m.set(topic, w);
      }
    }
    const durable = this.ctx.fsync !== 'never';
    const writes: Promise<number>[] = [];
    for (const { topic, src, groups } of plan) {
      for (const [p, idx] of groups) writes.push((touched.get(p)?.get(topic) as PartitionWriter).append(src, idx, 0, idx.length, this.id));
    }
    const written = await Promise.allSettled(writes);
    try {
      for (const r of written) if (r.status === 'rejected') throw r.reason;
      if (durable) await Promise.all([...touched.values()].flatMap((m) => [...m.values()].map((w) => w.sync())));
    } catch (e) {
      this.rollBack([...touched.values()]);
      throw e;
    }

    const parts = new Set<number>([...inputs.keys(), ...tx.state.keys(), ...touched.keys()]);
    const next = new Map<number, CheckpointFile>();
    for (const p of parts) {
      const prev = this.ckpts.get(p) ?? EMPTY;
      const outputs: Record<string, number> = { ...prev.outputs };
      for (const [topic, w] of touched.get(p) ?? []) outputs[topic] = w.endOffset;
      next.set(p, { inputs: { ...prev.inputs, ...inputs.get(p) }, outputs, state: tx.state.get(p) ?? prev.state });
    }
    const entries = [...next];
    const results = await Promise.allSettled(entries.map(([p, ckpt]) => writeCheckpoint(this.ctx.root, this.id, p, ckpt, durable)));
    let failure: unknown = null;
    results.forEach((r, i) => {
      const [p, ckpt] = entries[i];
      const writers = touched.get(p);
      if (r.status === 'fulfilled') {
        this.ckpts.set(p, ckpt);
        for (const w of writers?.values() ?? []) w.setCommittedEnd(w.endOffset);
      } else {
        failure ??= r.reason;
        if (writers) this.rollBack([writers]);
      }
    });
    if (failure !== null) throw fsError(failure, `writing checkpoint of transactional consumer '${this.id}'`);
  }

  /** Cut output of a failed commit so the next commit cannot publish it. */
  private rollBack(writers: readonly Map<string, PartitionWriter>[]): void {
    for (const m of writers) for (const w of m.values()) w.truncateTo(w.committedEnd);
  }

  private checkOwned(p: number, what: string): void {
    if (!this.partitions.includes(p)) {
      throw new PctrError('PCTR_VALIDATION', `${what}: partition ${p} is not one of transactional consumer '${this.id}''s partitions [${this.partitions.join(', ')}]`);
    }
  }

  private ensureOpen(): void {
    if (this.closed) throw new PctrError('PCTR_CONFLICT', `transactional consumer '${this.id}' is closed`);
  }

  /** Run restore/commit one at a time, in call order. */
  private serial<T>(fn: () => T | Promise<T>): Promise<T> {
    const run = this.chain.catch(() => undefined).then(fn);
    this.chain = run;
    return run;
  }

  private releaseLocks(): void {
    for (const l of this.locks) l.release();
    this.locks = [];
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.chain.catch(() => undefined);
    this.closed = true;
    this.set.close();
    for (const c of this.set.cursors) c.close();
    for (const c of this.replayCursors.values()) c.close();
    for (const key of this.claimed) {
      const slash = key.lastIndexOf('/');
      await this.ctx.closeWriter(key.slice(0, slash), Number(key.slice(slash + 1)));
    }
    this.releaseLocks();
    this.ctx.detach(this);
  }
}
