/**
 * Reading frames out of segment files: a reusable window buffer over a file descriptor, a walk
 * that validates frames (recovery, end-offset counting) or hops over them by length (seeking),
 * segment naming, and the per-segment sparse index (offset → byte position every ~256 KiB) that
 * makes seeking cost a short hop instead of a scan of the whole segment.
 */
import { existsSync, readSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FRAME_CORRUPT, FRAME_HEADER_BYTES, FRAME_INCOMPLETE, MAX_PAYLOAD_BYTES, checkFrame } from './frame.ts';
import { isErrno } from './fs-util.ts';

const NAME_DIGITS = 20;
const SEG_SUFFIX = '.seg';
const INDEX_EVERY_BYTES = 256 * 1024;

export function segmentFile(dir: string, base: number): string {
  return join(dir, `${String(base).padStart(NAME_DIGITS, '0')}${SEG_SUFFIX}`);
}

/** Base offsets of a partition's segments, ascending ([] when the directory does not exist). */
export function listSegments(dir: string): number[] {
  // Checked first because idle readers of a topic nobody wrote yet ask every few ms, and a thrown ENOENT costs far more.
  if (!existsSync(dir)) return [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return [];
    throw e;
  }
  const bases: number[] = [];
  for (const n of names) {
    if (n.length === NAME_DIGITS + SEG_SUFFIX.length && n.endsWith(SEG_SUFFIX)) bases.push(Number(n.slice(0, NAME_DIGITS)));
  }
  return bases.sort((a, b) => a - b);
}

/** Topics present under the log root (directories not starting with a dot). */
export function topicsOnDisk(root: string): string[] {
  try {
    return readdirSync(root, { withFileTypes: true })
      .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
      .map((d) => d.name);
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return [];
    throw e;
  }
}

/** Most bytes a fresh window buffer holds (see `handOut`). */
const FRESH_MAX_BYTES = 1 << 20;

/**
 * A window of a file in memory; grows to hold the largest frame seen. Once `handOut` was called,
 * its bytes belong to someone else (records that point into them), and the next read goes into a
 * new buffer sized for that read instead of overwriting them.
 */
export class FileWindow {
  buf: Buffer;
  /** File position of buf[0], and of the end of the valid bytes. */
  start = 0;
  end = 0;
  private fd = -1;
  private handedOut = false;

  constructor(bytes = 1 << 20) {
    this.buf = Buffer.allocUnsafe(bytes);
  }

  /**
   * Make `[pos, pos + need)` of `fd` available, reading about `want` bytes (capped by `limit`, the
   * readable size of the file); false when `limit` cuts the range.
   */
  ensure(fd: number, pos: number, need: number, limit: number, want = this.buf.length): boolean {
    if (fd === this.fd && pos >= this.start && pos + need <= this.end) return true;
    if (pos + need > limit) return false;
    let len: number;
    if (this.handedOut) {
      len = Math.min(Math.max(need, Math.min(want, FRESH_MAX_BYTES)), limit - pos);
      this.buf = Buffer.allocUnsafe(len);
      this.handedOut = false;
    } else {
      if (need > this.buf.length) this.buf = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
      len = Math.min(Math.max(need, Math.min(want, this.buf.length)), limit - pos);
    }
    let got = 0;
    while (got < len) {
      const n = readSync(fd, this.buf, got, len - got, pos + got);
      if (n === 0) break;
      got += n;
    }
    this.fd = fd;
    this.start = pos;
    this.end = pos + got;
    return got >= need;
  }

  /** The current bytes are now referenced by records: never overwrite them. */
  handOut(): void {
    this.handedOut = true;
  }

  /** Forget the window (the file was truncated or rewritten). */
  reset(): void {
    this.fd = -1;
    this.start = this.end = 0;
  }
}

export interface WalkResult {
  /** Byte position after the last frame walked. */
  pos: number;
  /** Frames walked. */
  count: number;
  /** Why the walk stopped: reached `maxFrames`, ran out of complete frames, or met a corrupt one. */
  stop: 'max' | 'incomplete' | 'corrupt';
}

/**
 * Walk frames of `fd` from `pos` while below `limit` bytes and `maxFrames` frames. `verify` checks
 * CRCs (recovery and end counting); without it frames are hopped by their length field alone, which
 * is only safe over bytes already validated. `index` (optional) collects (offset, position) samples
 * with `baseOffset` as the offset of the frame at `pos`.
 */
export function walkFrames(
  win: FileWindow,
  fd: number,
  pos: number,
  limit: number,
  maxFrames: number,
  verify: boolean,
  index?: SparseIndex,
  baseOffset = 0,
): WalkResult {
  let count = 0;
  while (count < maxFrames) {
    if (!win.ensure(fd, pos, FRAME_HEADER_BYTES, limit)) return { pos, count, stop: 'incomplete' };
    const rel = pos - win.start;
    const len = win.buf.readUInt32LE(rel);
    if (len > MAX_PAYLOAD_BYTES) return { pos, count, stop: 'corrupt' };
    const total = FRAME_HEADER_BYTES + len;
    if (verify) {
      if (!win.ensure(fd, pos, total, limit)) return { pos, count, stop: 'incomplete' };
      const r = checkFrame(win.buf, pos - win.start, win.end - win.start);
      if (r === FRAME_CORRUPT) return { pos, count, stop: 'corrupt' };
      if (r === FRAME_INCOMPLETE) return { pos, count, stop: 'incomplete' };
    } else if (pos + total > limit) {
      return { pos, count, stop: 'incomplete' };
    }
    if (index) index.note(baseOffset + count, pos);
    pos += total;
    count++;
  }
  return { pos, count, stop: 'max' };
}

/** Sampled (offset, byte position) pairs of one segment, ascending. */
export class SparseIndex {
  private readonly offsets: number[] = [];
  private readonly positions: number[] = [];

  constructor(base: number) {
    this.offsets.push(base);
    this.positions.push(0);
  }

  /** Record a frame start if it is far enough past the last sample. */
  note(offset: number, pos: number): void {
    const last = this.positions.length - 1;
    if (pos >= this.positions[last] + INDEX_EVERY_BYTES && offset > this.offsets[last]) {
      this.offsets.push(offset);
      this.positions.push(pos);
    }
  }

  /** The sample at or before `offset`. */
  floor(offset: number): { offset: number; pos: number } {
    let lo = 0;
    let hi = this.offsets.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.offsets[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { offset: this.offsets[lo], pos: this.positions[lo] };
  }

  /** Drop samples at or past `offset` (the segment was truncated there). */
  truncate(offset: number): void {
    while (this.offsets.length > 1 && this.offsets[this.offsets.length - 1] >= offset) {
      this.offsets.pop();
      this.positions.pop();
    }
  }
}
