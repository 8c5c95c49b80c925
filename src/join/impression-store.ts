/**
 * The impressions one partition of the join remembers, in arrival order: pending ones (window still
 * open, raw bytes kept to emit the example: a span of the buffer the log read them into) and closed ones (label emitted, kept until the late-click
 * horizon to tell a late click from an unknown one). Each impression gets a sequence number; its
 * fields live in typed-array columns at ring slot `seq & mask`, so storing one costs no object, and
 * the oldest entries are freed from the head of the ring. The head's input offset is where a restart
 * replays from to rebuild this store.
 *
 * Lookup by impression id is an open-addressing hash table (linear probing, backward-shift
 * deletion) of ring slots in an Int32Array: measured ~2× faster than a Map<string, number> holding
 * ~200k ids, whose lookups and deletes were the join's largest single cost.
 */
import { hashString } from '../core/index.ts';
import type { JoinRecord } from './join-record.ts';

/** Flag bits of an impression. */
export const POSITIVE = 1;
export const CLOSED = 2;
/** A later impression with the same key took over the index entry. */
const SUPERSEDED = 4;

export class ImpressionStore {
  private mask: number;
  private tsCol: Float64Array;
  private offsetCol: Float64Array;
  private flagCol: Uint8Array;
  private hashCol: Int32Array;
  private keyCol: (string | undefined)[];
  /** The value's bytes: bufCol[i][startCol[i], endCol[i]). */
  private bufCol: (Buffer | undefined)[];
  private startCol: Int32Array;
  private endCol: Int32Array;
  /** Ring slot + 1 of the entry holding each key (0: empty); twice the ring's size, so at most half full. */
  private table: Int32Array;
  private tableMask: number;
  /** Sequence number of the oldest entry still held. */
  private head = 0;
  /** Sequence number the next entry gets. */
  private tail = 0;
  /** The last key looked up and its hash: `add` after `find` of the same key hashes it once. */
  private lastKey: string | undefined;
  private lastHash = 0;

  constructor(capacity = 1024) {
    let cap = 1;
    while (cap < capacity) cap *= 2;
    this.mask = cap - 1;
    this.tsCol = new Float64Array(cap);
    this.offsetCol = new Float64Array(cap);
    this.flagCol = new Uint8Array(cap);
    this.hashCol = new Int32Array(cap);
    this.keyCol = new Array<string | undefined>(cap);
    this.bufCol = new Array<Buffer | undefined>(cap);
    this.startCol = new Int32Array(cap);
    this.endCol = new Int32Array(cap);
    this.table = new Int32Array(2 * cap);
    this.tableMask = 2 * cap - 1;
  }

  /** Entries held (pending, closed, and expired ones not yet freed). */
  get size(): number {
    return this.tail - this.head;
  }

  /**
   * Store an impression (its value's bytes only when `keepValue`: a closed one needs none); `replaces`
   * is the entry with the same key it takes over (from `find`), or -1.
   */
  add(rec: JoinRecord, ts: number, flags: number, replaces: number, keepValue: boolean): number {
    if (this.tail - this.head > this.mask) this.grow();
    const seq = this.tail++;
    const i = seq & this.mask;
    const key = rec.key;
    const h = this.hashOf(key);
    this.tsCol[i] = ts;
    this.offsetCol[i] = rec.offset;
    this.flagCol[i] = flags;
    this.hashCol[i] = h;
    this.keyCol[i] = key;
    this.bufCol[i] = keepValue ? rec.bytes : undefined;
    this.startCol[i] = rec.start;
    this.endCol[i] = rec.end;
    if (replaces >= this.head) {
      const old = replaces & this.mask;
      this.flagCol[old] |= SUPERSEDED;
      this.table[this.positionOf(old)] = i + 1;
    } else {
      let t = h & this.tableMask;
      while (this.table[t] !== 0) t = (t + 1) & this.tableMask;
      this.table[t] = i + 1;
    }
    return seq;
  }

  /** Sequence number of the latest entry with this key, or -1. */
  find(key: string): number {
    const h = (this.lastHash = hashString(key) | 0);
    this.lastKey = key;
    const table = this.table;
    const tm = this.tableMask;
    for (let t = h & tm; ; t = (t + 1) & tm) {
      const e = table[t];
      if (e === 0) return -1;
      const i = e - 1;
      if (this.hashCol[i] === h && this.keyCol[i] === key) return this.head + ((i - this.head) & this.mask);
    }
  }

  ts(seq: number): number {
    return this.tsCol[seq & this.mask];
  }

  offset(seq: number): number {
    return this.offsetCol[seq & this.mask];
  }

  flags(seq: number): number {
    return this.flagCol[seq & this.mask];
  }

  key(seq: number): string {
    return this.keyCol[seq & this.mask] as string;
  }

  /** The buffer holding the value of a pending impression, which is `valueBytes(seq)[valueStart(seq), valueEnd(seq))`. */
  valueBytes(seq: number): Buffer {
    return this.bufCol[seq & this.mask] as Buffer;
  }

  valueStart(seq: number): number {
    return this.startCol[seq & this.mask];
  }

  valueEnd(seq: number): number {
    return this.endCol[seq & this.mask];
  }

  setFlag(seq: number, flag: number): void {
    this.flagCol[seq & this.mask] |= flag;
  }

  /** Mark closed and drop the value, which is no longer needed once the label is out. */
  close(seq: number): void {
    const i = seq & this.mask;
    this.flagCol[i] |= CLOSED;
    this.bufCol[i] = undefined;
  }

  /** Free entries from the head while `expired(seq)` holds for the oldest one. */
  freeHead(expired: (seq: number) => boolean): void {
    while (this.head < this.tail && expired(this.head)) {
      const i = this.head & this.mask;
      if ((this.flagCol[i] & SUPERSEDED) === 0) this.unindex(i);
      this.keyCol[i] = undefined;
      this.bufCol[i] = undefined;
      this.head++;
    }
  }

  /** Input offset of the oldest entry held, or `fallback` when empty. */
  oldestOffset(fallback: number): number {
    return this.head < this.tail ? this.offsetCol[this.head & this.mask] : fallback;
  }

  /** Offsets of held entries with all bits of `flag` set, in arrival order. */
  offsetsWith(flag: number): number[] {
    const out: number[] = [];
    for (let seq = this.head; seq < this.tail; seq++) {
      const i = seq & this.mask;
      if ((this.flagCol[i] & flag) === flag) out.push(this.offsetCol[i]);
    }
    return out;
  }

  private hashOf(key: string): number {
    return key === this.lastKey ? this.lastHash : hashString(key) | 0;
  }

  /** Table position of the entry pointing at ring slot i. */
  private positionOf(i: number): number {
    const tm = this.tableMask;
    let t = this.hashCol[i] & tm;
    while (this.table[t] !== i + 1) t = (t + 1) & tm;
    return t;
  }

  /** Remove slot i from the table, shifting later entries of its probe run back over the hole. */
  private unindex(i: number): void {
    const table = this.table;
    const tm = this.tableMask;
    let hole = this.positionOf(i);
    for (let j = (hole + 1) & tm; table[j] !== 0; j = (j + 1) & tm) {
      const home = this.hashCol[table[j] - 1] & tm;
      // Entry j may move into the hole only if the hole lies on its probe path (between home and j).
      if (((j - home) & tm) >= ((j - hole) & tm)) {
        table[hole] = table[j];
        hole = j;
      }
    }
    table[hole] = 0;
  }

  private grow(): void {
    const oldMask = this.mask;
    const cap = 2 * (oldMask + 1);
    const mask = cap - 1;
    const ts = new Float64Array(cap);
    const offset = new Float64Array(cap);
    const flags = new Uint8Array(cap);
    const hashes = new Int32Array(cap);
    const keys = new Array<string | undefined>(cap);
    const bufs = new Array<Buffer | undefined>(cap);
    const starts = new Int32Array(cap);
    const ends = new Int32Array(cap);
    const table = new Int32Array(2 * cap);
    const tm = 2 * cap - 1;
    for (let seq = this.head; seq < this.tail; seq++) {
      const from = seq & oldMask;
      const to = seq & mask;
      ts[to] = this.tsCol[from];
      offset[to] = this.offsetCol[from];
      flags[to] = this.flagCol[from];
      hashes[to] = this.hashCol[from];
      keys[to] = this.keyCol[from];
      bufs[to] = this.bufCol[from];
      starts[to] = this.startCol[from];
      ends[to] = this.endCol[from];
      if ((flags[to] & SUPERSEDED) !== 0) continue;
      let t = hashes[to] & tm;
      while (table[t] !== 0) t = (t + 1) & tm;
      table[t] = to + 1;
    }
    this.mask = mask;
    this.tsCol = ts;
    this.offsetCol = offset;
    this.flagCol = flags;
    this.hashCol = hashes;
    this.keyCol = keys;
    this.bufCol = bufs;
    this.startCol = starts;
    this.endCol = ends;
    this.table = table;
    this.tableMask = tm;
  }
}
