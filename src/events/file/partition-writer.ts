/**
 * The single writer of a partition: owns its lock, recovers the tail on open (cutting a torn or
 * corrupt end and reporting it), coalesces concurrent appends into large positioned writes (one
 * write per ~4 MiB chunk, no per-record promise), applies the fsync policy, rolls segments at
 * segmentBytes, deletes old segments by size and age, and keeps the read-committed marker of
 * transactional output.
 */
import { closeSync, fdatasyncSync, fstatSync, ftruncateSync, openSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { PctrError, type Logger } from '../../core/index.ts';
import type { RecordSource } from '../record-buffer.ts';
import { maxFrameBytes, writeFrame } from './frame.ts';
import { datasync, fsError, fsyncDirSync, isErrno, pwriteAll, writeFileAtomicSync } from './fs-util.ts';
import { FileLock } from './lock.ts';
import type { Partition } from './partition.ts';
import { FileWindow, listSegments, segmentFile, walkFrames } from './segment-io.ts';
import { type RecoveryReport, recoverTail } from './tail-recovery.ts';

export type { RecoveryReport };

export type FsyncPolicy = 'always' | 'interval' | 'never';

export interface WriterOptions {
  readonly fsync: FsyncPolicy;
  readonly segmentBytes: number;
  readonly retentionBytes: number;
  readonly retentionMs: number;
  readonly logger: Logger;
}

interface Job {
  readonly src: RecordSource;
  /** Indices into `src` (null: records start .. start+count in order). */
  readonly idx: Int32Array | null;
  readonly start: number;
  readonly count: number;
  readonly resolve: (firstOffset: number) => void;
  readonly reject: (err: unknown) => void;
}

const CHUNK_BYTES = 4 * 1024 * 1024;
const INITIAL_SCRATCH_BYTES = 64 * 1024;

export class PartitionWriter {
  /** Base offsets of the segments, ascending; the last is the active one. */
  readonly segments: number[];
  activeBytes = 0;
  endOffset = 0;
  /** Transactional owner of this partition's output, or null for plain appends. */
  txOwner: string | null = null;
  committedEnd = 0;
  private fd: number;
  private readonly sizes = new Map<number, number>();
  private queue: Job[] = [];
  private flushing: Promise<void> | null = null;
  private dirty = false;
  private scratch = Buffer.allocUnsafe(INITIAL_SCRATCH_BYTES);
  private closed = false;
  private syncing: Promise<void> | null = null;

  private constructor(
    private readonly part: Partition,
    private readonly opts: WriterOptions,
    private readonly lock: FileLock,
    segments: number[],
    fd: number,
  ) {
    this.segments = segments;
    this.fd = fd;
  }

  /** Lock the partition, validate its tail (cut and report a bad one), load its marker. */
  static open(part: Partition, opts: WriterOptions, onRecovery: (r: RecoveryReport) => void): PartitionWriter {
    const lock = FileLock.acquire(join(part.dir, 'writer.lock'), `topic ${part.topic} partition ${part.partition}`);
    try {
      const segments = listSegments(part.dir);
      if (segments.length === 0) segments.push(0);
      const base = segments[segments.length - 1];
      const file = segmentFile(part.dir, base);
      const fd = openSync(file, segments.length === 1 && base === 0 ? openFlagsFor(file) : 'r+');
      const w = new PartitionWriter(part, opts, lock, segments, fd);
      for (const b of segments.slice(0, -1)) w.sizes.set(b, statSync(segmentFile(part.dir, b)).size);
      const tail = recoverTail(part, fd, base, file, opts);
      w.activeBytes = tail.bytes;
      w.endOffset = tail.endOffset;
      if (tail.report) onRecovery(tail.report);
      w.loadMarker();
      w.applyRetention();
      return w;
    } catch (e) {
      lock.release();
      throw fsError(e, `opening ${part.dir} for writing`);
    }
  }

  get activeBase(): number {
    return this.segments[this.segments.length - 1];
  }

  private loadMarker(): void {
    const m = this.part.readMarker();
    if (!m) return;
    this.txOwner = m.owner;
    this.committedEnd = m.end;
    if (m.end > this.endOffset) {
      this.opts.logger.error({ topic: this.part.topic, partition: this.part.partition, committedEnd: m.end, endOffset: this.endOffset }, 'event log: committed transactional output is missing (lost without fsync?)');
      this.committedEnd = this.endOffset;
    }
  }

  /**
   * Append `count` records; resolves with the offset of the first once written (and fsynced under
   * `always`). `owner` is the transactional producer writing its output, null for a plain append.
   */
  append(src: RecordSource, idx: Int32Array | null, start: number, count: number, owner: string | null): Promise<number> {
    if (this.closed) return Promise.reject(new PctrError('PCTR_BACKEND_UNAVAILABLE', `event log is closed (append to ${this.part.topic}/${this.part.partition})`));
    if (owner !== this.txOwner) {
      const msg =
        this.txOwner === null
          ? `partition ${this.part.topic}/${this.part.partition} has no transactional owner; ${owner} must claim it first`
          : `partition ${this.part.topic}/${this.part.partition} is the output of transactional producer '${this.txOwner}'; ${owner === null ? 'plain appends' : `producer '${owner}'`} may not write it`;
      return Promise.reject(new PctrError('PCTR_CONFLICT', msg, { details: { topic: this.part.topic, partition: this.part.partition, owner: this.txOwner } }));
    }
    return new Promise<number>((resolve, reject) => {
      this.queue.push({ src, idx, start, count, resolve, reject });
      this.flushing ??= this.flush();
    });
  }

  private async flush(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const jobs = this.queue;
        this.queue = [];
        const firsts: number[] = [];
        try {
          await this.writeJobs(jobs, firsts);
          if (this.opts.fsync === 'always') {
            await datasync(this.fd);
            this.dirty = false;
          }
        } catch (e) {
          this.repairAfterFailedWrite();
          const err = fsError(e, `appending to ${this.part.topic}/${this.part.partition}`);
          for (const j of jobs) j.reject(err);
          continue;
        }
        for (let i = 0; i < jobs.length; i++) jobs[i].resolve(firsts[i]);
      }
    } finally {
      this.flushing = null;
    }
  }

  private async writeJobs(jobs: readonly Job[], firsts: number[]): Promise<void> {
    const segmentBytes = this.opts.segmentBytes;
    let pos = 0;
    let frames = 0;
    let offset = this.endOffset;
    let index = this.part.index(this.activeBase);
    for (const job of jobs) {
      firsts.push(offset);
      const { src, idx, start, count } = job;
      for (let k = 0; k < count; k++) {
        const i = idx === null ? start + k : idx[start + k];
        const need = maxFrameBytes(src, i);
        if (pos + need > this.scratch.length && pos + need <= CHUNK_BYTES) {
          this.growScratch(pos, pos + need);
        } else if (pos + need > this.scratch.length) {
          if (pos > 0) await this.writeChunk(pos, frames);
          pos = frames = 0;
          if (need > this.scratch.length) this.scratch = Buffer.allocUnsafe(need);
        }
        let end = writeFrame(this.scratch, pos, src, i);
        if (this.activeBytes + end > segmentBytes && this.activeBytes + pos > 0) {
          if (pos > 0) {
            await this.writeChunk(pos, frames);
            this.scratch.copy(this.scratch, 0, pos, end);
            end -= pos;
            pos = frames = 0;
          }
          await this.roll();
          index = this.part.index(this.activeBase);
        }
        index.note(offset, this.activeBytes + pos);
        pos = end;
        frames++;
        offset++;
      }
    }
    if (pos > 0) await this.writeChunk(pos, frames);
  }

  /** A larger scratch buffer keeping its first `keep` bytes: writers start small (most partitions of side topics see little). */
  private growScratch(keep: number, need: number): void {
    const grown = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, Math.max(need, 8 * this.scratch.length)));
    this.scratch.copy(grown, 0, 0, keep);
    this.scratch = grown;
  }

  private async writeChunk(len: number, frames: number): Promise<void> {
    await pwriteAll(this.fd, this.scratch, len, this.activeBytes);
    this.activeBytes += len;
    this.endOffset += frames;
    this.dirty = true;
    if (this.txOwner === null) this.part.notify();
  }

  /** A failed write may have left part of a chunk behind; cut the file back to the last whole chunk. */
  private repairAfterFailedWrite(): void {
    try {
      ftruncateSync(this.fd, this.activeBytes);
    } catch (e) {
      this.opts.logger.error({ err: e, dir: this.part.dir }, 'event log: cannot cut a failed write; the next open will');
    }
  }

  private async roll(): Promise<void> {
    if (this.opts.fsync !== 'never') await datasync(this.fd);
    closeSync(this.fd);
    this.sizes.set(this.activeBase, this.activeBytes);
    const base = this.endOffset;
    const file = segmentFile(this.part.dir, base);
    this.fd = openSync(file, openFlagsFor(file));
    ftruncateSync(this.fd, 0);
    if (this.opts.fsync === 'always') fsyncDirSync(this.part.dir);
    this.segments.push(base);
    this.activeBytes = 0;
    this.applyRetention();
  }

  /** Delete whole old segments (never the active one) beyond retentionBytes or older than retentionMs. */
  applyRetention(now = Date.now()): void {
    const { retentionBytes, retentionMs } = this.opts;
    if (retentionBytes <= 0 && retentionMs <= 0) return;
    let total = this.activeBytes;
    for (const s of this.sizes.values()) total += s;
    while (this.segments.length > 1) {
      const base = this.segments[0];
      const file = segmentFile(this.part.dir, base);
      let drop = retentionBytes > 0 && total > retentionBytes;
      if (!drop && retentionMs > 0) drop = statSync(file).mtimeMs < now - retentionMs;
      if (!drop) break;
      try {
        unlinkSync(file);
      } catch (e) {
        if (!isErrno(e, 'ENOENT')) throw e;
      }
      total -= this.sizes.get(base) ?? 0;
      this.sizes.delete(base);
      this.segments.shift();
      this.part.dropIndex(base);
    }
  }

  /** Become the transactional owner (writing the marker before any output), or refuse another owner's partition. */
  claim(owner: string): void {
    if (this.txOwner === owner) return;
    if (this.txOwner !== null) {
      throw new PctrError('PCTR_CONFLICT', `partition ${this.part.topic}/${this.part.partition} is the output of transactional producer '${this.txOwner}', not '${owner}'`);
    }
    writeFileAtomicSync(this.part.markerPath, JSON.stringify({ owner, end: this.endOffset }), true);
    this.txOwner = owner;
    this.committedEnd = this.endOffset;
  }

  /** Publish committed output up to `end` to read-committed readers. */
  setCommittedEnd(end: number): void {
    if (this.txOwner === null) throw new PctrError('PCTR_INTERNAL', `setCommittedEnd on ${this.part.dir} without an owner`);
    this.committedEnd = end;
    // Not fsynced: after a power loss restore rewrites it from the checkpoint, the source of truth.
    writeFileAtomicSync(this.part.markerPath, JSON.stringify({ owner: this.txOwner, end }), false);
    this.part.notify();
  }

  /** Cut everything at and after `offset` (uncommitted transactional output), across segments. */
  truncateTo(offset: number): void {
    if (offset >= this.endOffset) return;
    let i = this.segments.length - 1;
    while (i > 0 && this.segments[i] > offset) i--;
    for (let j = this.segments.length - 1; j > i; j--) {
      unlinkSync(segmentFile(this.part.dir, this.segments[j]));
      this.part.dropIndex(this.segments[j]);
      this.sizes.delete(this.segments[j]);
    }
    const base = this.segments[i];
    if (i < this.segments.length - 1) {
      closeSync(this.fd);
      this.fd = openSync(segmentFile(this.part.dir, base), 'r+');
      this.segments.length = i + 1;
      this.sizes.delete(base);
    }
    const index = this.part.index(base);
    const from = index.floor(Math.max(base, offset));
    const walk = walkFrames(new FileWindow(1 << 16), this.fd, from.pos, fstatSync(this.fd).size, offset - from.offset, false);
    ftruncateSync(this.fd, walk.pos);
    fdatasyncSync(this.fd);
    index.truncate(offset);
    this.activeBytes = walk.pos;
    this.endOffset = from.offset + walk.count;
  }

  /** Wait for appends in flight. */
  async drain(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  /** fsync if anything was written since the last sync (the `interval` policy's timer). */
  async sync(): Promise<void> {
    if (!this.dirty || this.closed) return;
    this.dirty = false;
    const run = datasync(this.fd);
    this.syncing = run;
    try {
      await run;
    } finally {
      if (this.syncing === run) this.syncing = null;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.drain();
    await this.syncing?.catch(() => undefined);
    if (this.opts.fsync !== 'never' && this.dirty) await datasync(this.fd);
    this.closed = true;
    closeSync(this.fd);
    this.lock.release();
  }
}

function openFlagsFor(file: string): string {
  try {
    statSync(file);
    return 'r+';
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return 'w+';
    throw e;
  }
}
