/**
 * One partition of one topic as this log instance sees it: its directory, the sparse indexes of its
 * segments, the consumers waiting for new records, its writer when this instance writes it, and the
 * read-committed marker of transactional output (`txn.json`: owner id and committed end offset).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isErrno } from './fs-util.ts';
import { SparseIndex } from './segment-io.ts';

export interface TxMarker {
  readonly owner: string;
  /** Offsets below this are committed; read-committed readers stop here. */
  readonly end: number;
}

/** What readers need to know of this instance's writer of the partition. */
export interface WriterState {
  /** Base offsets of the segments, ascending; the last is the active one. */
  readonly segments: readonly number[];
  readonly activeBase: number;
  /** Bytes of the active segment fully written. */
  readonly activeBytes: number;
  readonly endOffset: number;
  readonly txOwner: string | null;
  readonly committedEnd: number;
}

export class Partition {
  readonly dir: string;
  readonly markerPath: string;
  writer: WriterState | null = null;
  private readonly indexes = new Map<number, SparseIndex>();
  private readonly waiters = new Set<() => void>();

  constructor(
    root: string,
    readonly topic: string,
    readonly partition: number,
  ) {
    this.dir = join(root, topic, String(partition));
    this.markerPath = join(this.dir, 'txn.json');
  }

  index(base: number): SparseIndex {
    let idx = this.indexes.get(base);
    if (!idx) {
      idx = new SparseIndex(base);
      this.indexes.set(base, idx);
    }
    return idx;
  }

  dropIndex(base: number): void {
    this.indexes.delete(base);
  }

  /** Call `wake` on the next append or commit to this partition by this instance. */
  onChange(wake: () => void): void {
    this.waiters.add(wake);
  }

  offChange(wake: () => void): void {
    this.waiters.delete(wake);
  }

  notify(): void {
    for (const w of this.waiters) w();
  }

  /** The transactional marker as last written (by this instance's writer or another process). */
  readMarker(): TxMarker | null {
    const w = this.writer;
    if (w) return w.txOwner === null ? null : { owner: w.txOwner, end: w.committedEnd };
    // Most partitions never have a marker; a failed read would cost an exception on every tail read.
    if (!existsSync(this.markerPath)) return null;
    let text: string;
    try {
      text = readFileSync(this.markerPath, 'utf8');
    } catch (e) {
      if (isErrno(e, 'ENOENT')) return null;
      throw e;
    }
    try {
      const m = JSON.parse(text) as TxMarker;
      if (typeof m.owner === 'string' && Number.isSafeInteger(m.end)) return m;
    } catch {
      // Falls through: an unreadable marker (a rename that outlived its data after a power loss)
      // hides everything until the owner restores and rewrites it, the safe side for read-committed.
    }
    return { owner: '?', end: 0 };
  }
}
