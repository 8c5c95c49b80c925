/**
 * A reading position in one partition: segment, byte position, next offset. Reads decode frames
 * (CRC checked) into records, never past the committed end of transactional output, and treat a
 * frame that is not complete yet as not written. A bad frame in the active segment of a partition
 * written by another process is waited on as well (its writer cuts it when it reopens); anywhere
 * else it is corruption. Window bytes are trusted within one read only: between reads the tail may
 * be cut and rewritten (recovery, transactional restore).
 */
import { closeSync, fstatSync, openSync, statSync } from 'node:fs';
import { PctrError, type Logger } from '../../core/index.ts';
import type { LogRecord } from '../event-log.ts';
import type { ReadBatch } from '../read-batch.ts';
import { FRAME_CORRUPT, FRAME_HEADER_BYTES, FRAME_INCOMPLETE, MAX_PAYLOAD_BYTES, checkFrame, frameKey, frameValue, frameValueStart } from './frame.ts';
import { isErrno } from './fs-util.ts';
import type { Partition } from './partition.ts';
import { type FileWindow, listSegments, segmentFile, walkFrames } from './segment-io.ts';

export class FileRecord implements LogRecord {
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly offset: number,
    readonly key: string,
    readonly value: string,
  ) {}
}

/** Where a cursor puts the frames it reads: decoded records, or spans of the window (bytes). */
export interface FrameSink {
  readonly length: number;
  /** The intact frame at `win.buf[rel, rel + total)` is record `offset` of the cursor's partition. */
  take(cursor: PartitionCursor, offset: number, win: FileWindow, rel: number, total: number): void;
}

/** Frames decoded into LogRecords. */
export class RecordSink implements FrameSink {
  constructor(readonly records: LogRecord[]) {}

  get length(): number {
    return this.records.length;
  }

  take(cursor: PartitionCursor, offset: number, win: FileWindow, rel: number, total: number): void {
    const { topic, partition } = cursor.part;
    this.records.push(new FileRecord(topic, partition, offset, frameKey(win.buf, rel), frameValue(win.buf, rel, total)));
  }
}

/** Frames as bytes: the key decoded, the value a span of the window, whose buffer the batch then owns. */
export class BytesSink implements FrameSink {
  constructor(readonly batch: ReadBatch) {}

  get length(): number {
    return this.batch.length;
  }

  take(cursor: PartitionCursor, offset: number, win: FileWindow, rel: number, total: number): void {
    const buf = win.buf;
    const valueStart = frameValueStart(buf, rel);
    this.batch.push(cursor.topicIndex, cursor.part.partition, offset, frameKey(buf, rel), buf, valueStart, rel + total);
    win.handOut();
  }
}

const MIN_READ_BYTES = 64 * 1024;

export class PartitionCursor {
  /** Next offset to deliver. */
  offset = 0;
  private base = -1;
  private pos = 0;
  private fd = -1;
  private segments: readonly number[] = [];
  /** Last size seen of the current segment, to notice growth by another process. */
  private seenLimit = -1;
  private stopAt = Number.POSITIVE_INFINITY;
  private avgFrame = 512;
  private warnedAt = -1;
  private quietClamp = false;
  private dirMtime = -1;

  constructor(
    readonly part: Partition,
    private readonly logger: Logger,
    /** Index of the partition's topic among its consumer's input topics (EncodedBatch.topicIndex). */
    readonly topicIndex = 0,
  ) {}

  /** Position at `offset`, clamped to the records that exist (earliest retained .. end). */
  seek(offset: number, win: FileWindow): void {
    this.closeFd();
    const segs = this.listSegments();
    if (segs.length === 0) {
      this.offset = 0;
      return;
    }
    const marker = this.part.readMarker();
    if (marker && offset > marker.end) offset = marker.end;
    let i = segs.length - 1;
    while (i > 0 && segs[i] > offset) i--;
    if (offset < segs[0] && !this.quietClamp) {
      this.logger.warn({ topic: this.part.topic, partition: this.part.partition, wanted: offset, earliest: segs[0] }, 'event log: offset was deleted by retention; resuming at the earliest kept');
      offset = segs[0];
    }
    offset = Math.max(offset, segs[0]);
    if (!this.openSegment(segs[i])) return this.seek(offset, win);
    const from = this.part.index(this.base).floor(offset);
    win.reset();
    const walk = walkFrames(win, this.fd, from.pos, this.limitNow(), offset - from.offset, true, this.part.index(this.base), from.offset);
    win.reset();
    this.pos = walk.pos;
    this.offset = from.offset + walk.count;
    // A marker created while we walked means some of what we walked over may be uncommitted output.
    const after = this.part.readMarker();
    if (after && this.offset > after.end) this.seek(after.end, win);
  }

  /** Position at the earliest retained record. */
  seekEarliest(win: FileWindow): void {
    this.quietClamp = true;
    try {
      this.seek(0, win);
    } finally {
      this.quietClamp = false;
    }
  }

  /** Position at the end (of committed records, for transactional output). */
  seekEnd(win: FileWindow): void {
    this.seek(Number.MAX_SAFE_INTEGER, win);
  }

  /** Read up to `max` records into `out`; returns how many. */
  read(max: number, out: FrameSink, win: FileWindow): number {
    win.reset();
    let n = 0;
    if (this.fd < 0 && !this.reopen(win)) return 0;
    let limit = this.limitNow();
    // The marker is read after the size: output a transactional writer appends is always preceded by
    // its marker, so bytes counted in `limit` can never be uncommitted output we failed to see marked.
    if (limit !== this.seenLimit || this.offset >= this.stopAt) this.refreshStop(limit);
    let stopAt = this.stopAt;
    let index = this.part.index(this.base);
    while (n < max && this.offset < stopAt) {
      const want = Math.max(MIN_READ_BYTES, (Math.min(max - n, stopAt - this.offset) + 1) * this.avgFrame);
      if (!win.ensure(this.fd, this.pos, FRAME_HEADER_BYTES, limit, want)) {
        if (this.advanceSegment(win, limit)) {
          limit = this.limitNow();
          stopAt = this.refreshStop(limit);
          index = this.part.index(this.base);
          continue;
        }
        break;
      }
      const len = win.buf.readUInt32LE(this.pos - win.start);
      const total = FRAME_HEADER_BYTES + len;
      if (len > MAX_PAYLOAD_BYTES) {
        this.badFrame();
        break;
      }
      if (!win.ensure(this.fd, this.pos, total, limit, want)) {
        if (this.advanceSegment(win, limit)) {
          limit = this.limitNow();
          stopAt = this.refreshStop(limit);
          index = this.part.index(this.base);
          continue;
        }
        break;
      }
      const rel = this.pos - win.start;
      const r = checkFrame(win.buf, rel, win.end - win.start);
      if (r === FRAME_CORRUPT) {
        this.badFrame();
        break;
      }
      if (r === FRAME_INCOMPLETE) break;
      index.note(this.offset, this.pos);
      out.take(this, this.offset, win, rel, total);
      this.avgFrame = (this.avgFrame * 15 + total) >> 4;
      this.pos += total;
      this.offset++;
      n++;
    }
    return n;
  }

  close(): void {
    this.closeFd();
  }

  private refreshStop(limit: number): number {
    const m = this.part.readMarker();
    this.stopAt = m === null ? Number.POSITIVE_INFINITY : m.end;
    this.seenLimit = limit;
    return this.stopAt;
  }

  private reopen(win: FileWindow): boolean {
    const target = this.offset;
    this.seek(target, win);
    return this.fd >= 0;
  }

  private listSegments(): readonly number[] {
    const w = this.part.writer;
    if (w) return (this.segments = w.segments);
    // Another process's writer: its directory's mtime changes when it creates a segment, and a
    // stat is far cheaper than a listing for a reader that asks every few milliseconds. File times
    // come from a coarse clock (a tick of a few ms), so an mtime that recent may hide a second
    // change in the same tick: list again until it is older than that.
    const mtime = dirMtimeMs(this.part.dir);
    if (mtime !== this.dirMtime || mtime < 0 || Date.now() - mtime < COARSE_CLOCK_SLACK_MS) {
      this.segments = listSegments(this.part.dir);
      this.dirMtime = mtime;
    }
    return this.segments;
  }

  private openSegment(base: number): boolean {
    try {
      this.fd = openSync(segmentFile(this.part.dir, base), 'r');
    } catch (e) {
      if (isErrno(e, 'ENOENT')) return false;
      throw e;
    }
    this.base = base;
    this.pos = 0;
    this.seenLimit = -1;
    return true;
  }

  private closeFd(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  /** Bytes of the current segment that may be read now. */
  private limitNow(): number {
    const w = this.part.writer;
    if (w && w.activeBase === this.base) return w.activeBytes;
    return fstatSync(this.fd).size;
  }

  /**
   * At the readable end of the current segment: continue when it grew, or move to the next segment
   * when a later one exists (so this one is final). True when the read should go on.
   */
  private advanceSegment(win: FileWindow, limit: number): boolean {
    let next = -1;
    for (const b of this.listSegments()) {
      if (b > this.base) {
        next = b;
        break;
      }
    }
    if (next < 0) return false;
    const size = fstatSync(this.fd).size;
    if (size > limit) return true;
    if (this.pos < size || this.offset !== next) {
      throw new PctrError('PCTR_LOG_CORRUPT', `event log ${this.part.topic}/${this.part.partition}: segment ${segmentFile(this.part.dir, this.base)} ends with a torn record at byte ${this.pos} (offset ${this.offset}; next segment starts at ${next})`, {
        details: { topic: this.part.topic, partition: this.part.partition, offset: this.offset },
      });
    }
    this.closeFd();
    win.reset();
    return this.openSegment(next);
  }

  private badFrame(): void {
    const w = this.part.writer;
    const last = this.listSegments();
    const inActiveOfOtherWriter = !w && last[last.length - 1] === this.base;
    if (!inActiveOfOtherWriter) {
      throw new PctrError('PCTR_LOG_CORRUPT', `event log ${this.part.topic}/${this.part.partition}: corrupt record at offset ${this.offset} (byte ${this.pos} of ${segmentFile(this.part.dir, this.base)})`, {
        details: { topic: this.part.topic, partition: this.part.partition, offset: this.offset, position: this.pos },
      });
    }
    if (this.warnedAt !== this.pos) {
      this.warnedAt = this.pos;
      this.logger.warn({ topic: this.part.topic, partition: this.part.partition, offset: this.offset }, 'event log: bad frame at the tail; waiting for its writer to cut it');
    }
  }
}

const COARSE_CLOCK_SLACK_MS = 100;

/** Modification time of a directory in ms, or -1 when it does not exist. */
function dirMtimeMs(dir: string): number {
  return statSync(dir, { throwIfNoEntry: false })?.mtimeMs ?? -1;
}
