/**
 * The embedded event log: `DIR/<topic>/<partition>/<base offset>.seg` append-only segment files of
 * CRC-checked frames, one locked writer per partition, consumer-group offsets and transactional
 * checkpoints in small atomically replaced files. Partitions are opened for writing (locked, tail
 * validated and cut) on first append, or all at once by `recover()`.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PctrError, partitionOf, silentLogger, type Logger } from '../../core/index.ts';
import type { AppendAck, AppendRecord, Consumer, EventLog, SubscribeOptions, TransactionalConsumer } from '../event-log.ts';
import { LazyAppendAck, checkName, checkPartitions, transactionalTopics, type EventsSettings } from '../common.ts';
import { recordSource } from '../record-buffer.ts';
import type { FileLogContext } from './context.ts';
import { PartitionCursor } from './cursor.ts';
import { FileConsumer } from './file-consumer.ts';
import { fsError, isErrno, writeFileAtomicSync } from './fs-util.ts';
import { FileTransactional } from './file-transactional.ts';
import { readCheckpoint, readGroupOffsets } from './offset-files.ts';
import { Partition } from './partition.ts';
import { type FsyncPolicy, PartitionWriter, type RecoveryReport } from './partition-writer.ts';
import { FileWindow, listSegments, topicsOnDisk } from './segment-io.ts';

export type { RecoveryReport };

export interface FileLogConfig {
  readonly type: 'file';
  readonly dir: string;
  readonly partitions: number;
  readonly fsync: FsyncPolicy;
  readonly fsyncIntervalMs: number;
  readonly segmentBytes: number;
  readonly retentionBytes: number;
  readonly retentionMs: number;
}

/** `file:DIR` (or `file://DIR`) plus the shared event settings. */
export function fileLogConfig(settings: EventsSettings): FileLogConfig {
  const rest = settings.url.slice(settings.url.indexOf(':') + 1);
  const dir = rest.startsWith('//') ? rest.slice(2) : rest;
  if (!dir) throw new PctrError('PCTR_CONFIG_INVALID', `events.url ${settings.url}: file: URL needs a directory, e.g. file:./.pctr/events`);
  const { partitions, fsync, fsyncIntervalMs, segmentBytes, retentionBytes, retentionMs } = settings;
  return { type: 'file', dir: resolve(dir), partitions, fsync, fsyncIntervalMs, segmentBytes, retentionBytes, retentionMs };
}

const RETENTION_CHECK_MAX_MS = 60_000;

/** Refuse a partition count other than the one the log was created with: keys would move partitions. */
function checkLayout(root: string, partitions: number): void {
  const path = join(root, 'log.json');
  let found: number;
  try {
    found = (JSON.parse(readFileSync(path, 'utf8')) as { partitions: number }).partitions;
  } catch (e) {
    if (!isErrno(e, 'ENOENT')) throw fsError(e, `reading ${path}`);
    writeFileAtomicSync(path, JSON.stringify({ partitions }), true);
    return;
  }
  if (found !== partitions) {
    throw new PctrError('PCTR_CONFIG_INVALID', `event log ${root} was created with ${found} partitions per topic but events.partitions is ${partitions}; keys would land in other partitions`, {
      details: { found, configured: partitions },
    });
  }
}

export class FileEventLog implements EventLog, FileLogContext {
  readonly partitions: number;
  readonly root: string;
  readonly fsync: FsyncPolicy;
  /** Every tail cut by this instance when opening partitions for writing. */
  readonly recoveries: RecoveryReport[] = [];
  private readonly parts = new Map<string, Partition[]>();
  private readonly writers = new Map<Partition, PartitionWriter>();
  private readonly attached = new Set<{ close(): Promise<void> }>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly endCursors = new Map<Partition, PartitionCursor>();
  private readonly endWin = new FileWindow(1 << 16);
  private closed = false;
  private syncing = false;

  constructor(
    readonly config: FileLogConfig,
    readonly logger: Logger = silentLogger,
  ) {
    this.partitions = config.partitions;
    this.root = config.dir;
    this.fsync = config.fsync;
    mkdirSync(this.root, { recursive: true });
    checkLayout(this.root, config.partitions);
    if (config.fsync === 'interval') this.every(Math.max(1, config.fsyncIntervalMs), () => this.syncAll());
    if (config.retentionMs > 0) this.every(Math.min(RETENTION_CHECK_MAX_MS, Math.max(1000, config.retentionMs / 4)), () => this.applyRetention());
  }

  private every(ms: number, fn: () => Promise<void> | void): void {
    const t = setInterval(() => {
      Promise.resolve()
        .then(fn)
        .catch((e: unknown) => this.logger.error({ err: e }, 'event log: background maintenance failed'));
    }, ms);
    t.unref();
    this.timers.push(t);
  }

  partition(topic: string, p: number): Partition {
    let list = this.parts.get(topic);
    if (!list) {
      checkName(topic, 'topic');
      list = Array.from({ length: this.partitions }, (_, i) => new Partition(this.root, topic, i));
      this.parts.set(topic, list);
    }
    return list[p];
  }

  writer(topic: string, p: number): PartitionWriter {
    this.ensureOpen();
    const part = this.partition(topic, p);
    let w = this.writers.get(part);
    if (!w) {
      mkdirSync(part.dir, { recursive: true });
      w = PartitionWriter.open(part, { ...this.config, logger: this.logger }, (r) => this.recoveries.push(r));
      this.writers.set(part, w);
      part.writer = w;
    }
    return w;
  }

  topics(): string[] {
    return topicsOnDisk(this.root);
  }

  detach(consumer: { close(): Promise<void> }): void {
    this.attached.delete(consumer);
  }

  async closeWriter(topic: string, p: number): Promise<void> {
    const part = this.partition(topic, p);
    const w = this.writers.get(part);
    if (!w) return;
    this.writers.delete(part);
    part.writer = null;
    await w.close();
  }

  /** Open every partition on disk for writing now (lock, validate and cut tails); the cuts made. */
  async recover(): Promise<RecoveryReport[]> {
    const before = this.recoveries.length;
    for (const topic of this.topics()) {
      for (let p = 0; p < this.partitions; p++) {
        if (listSegments(this.partition(topic, p).dir).length > 0) this.writer(topic, p);
      }
    }
    return this.recoveries.slice(before);
  }

  async append(topic: string, records: readonly AppendRecord[]): Promise<AppendAck> {
    this.ensureOpen();
    const n = records.length;
    const P = this.partitions;
    const parts = new Int32Array(n);
    const counts = new Int32Array(P);
    for (let i = 0; i < n; i++) {
      const r = records[i];
      if (typeof r?.key !== 'string' || typeof r.value !== 'string') {
        throw new PctrError('PCTR_VALIDATION', `append to ${topic}: record ${i} needs string key and value`);
      }
      const p = partitionOf(r.key, P);
      parts[i] = p;
      counts[p]++;
    }
    const starts = new Int32Array(P);
    for (let p = 1; p < P; p++) starts[p] = starts[p - 1] + counts[p - 1];
    const idx = new Int32Array(n);
    const fill = starts.slice();
    for (let i = 0; i < n; i++) idx[fill[parts[i]]++] = i;
    const firsts = new Float64Array(P);
    const src = recordSource(records);
    // Open (lock, recover) every partition first, so a refused one fails the append before any write.
    const writers = Array.from(counts, (c, p) => (c > 0 ? this.writer(topic, p) : null));
    const pending: Promise<void>[] = [];
    for (let p = 0; p < P; p++) {
      const w = writers[p];
      if (w) pending.push(w.append(src, idx, starts[p], counts[p], null).then((first) => void (firsts[p] = first)));
    }
    await Promise.all(pending);
    const offsets = new Float64Array(n);
    for (let i = 0; i < n; i++) offsets[i] = firsts[parts[i]]++;
    return new LazyAppendAck(parts, offsets);
  }

  subscribe(topic: string, group: string, opts: SubscribeOptions = {}): Consumer {
    this.ensureOpen();
    checkName(topic, 'topic');
    checkName(group, 'group');
    const c = new FileConsumer(this, topic, group, checkPartitions(opts.partitions, this.partitions), opts.from ?? 'earliest');
    this.attached.add(c);
    return c;
  }

  transactional(topic: string | readonly string[], id: string, opts: { partitions: readonly number[] }): TransactionalConsumer {
    this.ensureOpen();
    const topics = transactionalTopics(topic, id);
    const c = new FileTransactional(this, topics, id, checkPartitions(opts.partitions, this.partitions));
    this.attached.add(c);
    return c;
  }

  async endOffsets(topic: string): Promise<number[]> {
    this.ensureOpen();
    const out: number[] = [];
    for (let p = 0; p < this.partitions; p++) {
      const part = this.partition(topic, p);
      const w = part.writer;
      if (w) {
        out.push(w.txOwner === null ? w.endOffset : w.committedEnd);
        continue;
      }
      let c = this.endCursors.get(part);
      if (!c) this.endCursors.set(part, (c = new PartitionCursor(part, this.logger)));
      c.seekEnd(this.endWin);
      out.push(c.offset);
      c.close();
    }
    return out;
  }

  async committedOffsets(topic: string, group: string): Promise<number[]> {
    this.ensureOpen();
    checkName(topic, 'topic');
    checkName(group, 'group');
    const offsets = readGroupOffsets(this.root, group, topic);
    const out: number[] = [];
    for (let p = 0; p < this.partitions; p++) {
      out.push(offsets.get(p) ?? readCheckpoint(this.root, group, p)?.inputs[topic] ?? -1);
    }
    return out;
  }

  /** Apply retention to every partition this instance writes. */
  applyRetention(now = Date.now()): void {
    for (const w of this.writers.values()) w.applyRetention(now);
  }

  /**
   * The `interval` policy's fsync pass: one partition at a time, so a slow disk ties up one thread
   * of libuv's pool (which the appends' writes also use) rather than all of them; skipped while the
   * previous pass is still running.
   */
  private async syncAll(): Promise<void> {
    if (this.syncing) return;
    this.syncing = true;
    try {
      for (const w of [...this.writers.values()]) await w.sync();
    } finally {
      this.syncing = false;
    }
  }

  private ensureOpen(): void {
    if (this.closed) throw new PctrError('PCTR_BACKEND_UNAVAILABLE', `event log ${this.root} is closed`);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    for (const t of this.timers) clearInterval(t);
    await Promise.all([...this.attached].map((c) => c.close()));
    this.closed = true;
    for (const [part, w] of this.writers) {
      await w.close();
      part.writer = null;
    }
    this.writers.clear();
  }
}
