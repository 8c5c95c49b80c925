/**
 * Tail validation when a writer opens a partition: walk the active segment's frames checking
 * lengths and CRCs, cut the file at the first frame that is torn or corrupt, and report the cut
 * (log warning + a report the caller keeps), so nothing after a crash is ever misread as a record.
 */
import { fdatasyncSync, fstatSync, ftruncateSync } from 'node:fs';
import { basename } from 'node:path';
import type { Logger } from '../../core/index.ts';
import type { Partition } from './partition.ts';
import { FileWindow, walkFrames } from './segment-io.ts';

/** What opening a partition found at its tail and cut. */
export interface RecoveryReport {
  readonly topic: string;
  readonly partition: number;
  readonly segment: string;
  /** Bytes removed from the end of the segment. */
  readonly bytesCut: number;
  /** Intact records kept in that segment. */
  readonly recordsKept: number;
  /** `incomplete`: a torn last frame; `corrupt`: an impossible length or a CRC mismatch. */
  readonly reason: 'incomplete' | 'corrupt';
  /** End offset of the partition after the cut. */
  readonly endOffset: number;
}

/** Validate segment `file` (open as `fd`, base offset `base`); returns its valid size and end offset. */
export function recoverTail(part: Partition, fd: number, base: number, file: string, opts: { fsync: string; logger: Logger }): { bytes: number; endOffset: number; report: RecoveryReport | null } {
  const size = fstatSync(fd).size;
  const walk = walkFrames(new FileWindow(), fd, 0, size, Number.MAX_SAFE_INTEGER, true, part.index(base), base);
  const endOffset = base + walk.count;
  if (walk.pos === size) return { bytes: walk.pos, endOffset, report: null };
  ftruncateSync(fd, walk.pos);
  if (opts.fsync !== 'never') fdatasyncSync(fd);
  const report: RecoveryReport = {
    topic: part.topic,
    partition: part.partition,
    segment: basename(file),
    bytesCut: size - walk.pos,
    recordsKept: walk.count,
    reason: walk.stop === 'corrupt' ? 'corrupt' : 'incomplete',
    endOffset,
  };
  opts.logger.warn(report, `event log: cut ${report.bytesCut} bytes of ${report.reason} tail from ${file}; ${walk.count} records kept`);
  return { bytes: walk.pos, endOffset, report };
}
