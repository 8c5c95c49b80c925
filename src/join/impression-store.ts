/**
 * The impressions one partition of the join remembers, in arrival order: pending ones (window still
 * open, raw text kept to emit the example) and closed ones (label emitted, kept until the late-click
 * horizon to tell a late click from an unknown one). Each impression gets a sequence number; its
 * fields live in typed-array columns at `seq % capacity`, so storing one costs no object, and the
 * oldest entries are freed from the head of the ring. The head's input offset is where a restart
 * replays from to rebuild this store.
 */

/** Flag bits of an impression. */
export const POSITIVE = 1;
export const CLOSED = 2;
/** A later impression with the same key took over the index entry. */
const SUPERSEDED = 4;

export class ImpressionStore {
  private capacity: number;
  private tsCol: Float64Array;
  private offsetCol: Float64Array;
  private flagCol: Uint8Array;
  private keyCol: (string | undefined)[];
  private valueCol: (string | undefined)[];
  /** Sequence number of the oldest entry still held. */
  private head = 0;
  /** Sequence number the next entry gets. */
  private tail = 0;
  private readonly index = new Map<string, number>();

  constructor(capacity = 1024) {
    this.capacity = capacity;
    this.tsCol = new Float64Array(capacity);
    this.offsetCol = new Float64Array(capacity);
    this.flagCol = new Uint8Array(capacity);
    this.keyCol = new Array<string | undefined>(capacity);
    this.valueCol = new Array<string | undefined>(capacity);
  }

  /** Entries held (pending, closed, and expired ones not yet freed). */
  get size(): number {
    return this.tail - this.head;
  }

  /** Store an impression; `replaces` is the entry with the same key it takes over (from `find`), or -1. */
  add(key: string, value: string | undefined, ts: number, offset: number, flags: number, replaces = -1): number {
    if (replaces >= this.head) this.flagCol[replaces % this.capacity] |= SUPERSEDED;
    if (this.tail - this.head === this.capacity) this.grow();
    const seq = this.tail++;
    const i = seq % this.capacity;
    this.tsCol[i] = ts;
    this.offsetCol[i] = offset;
    this.flagCol[i] = flags;
    this.keyCol[i] = key;
    this.valueCol[i] = value;
    this.index.set(key, seq);
    return seq;
  }

  /** Sequence number of the latest entry with this key, or -1. */
  find(key: string): number {
    const seq = this.index.get(key);
    return seq === undefined ? -1 : seq;
  }

  ts(seq: number): number {
    return this.tsCol[seq % this.capacity];
  }

  offset(seq: number): number {
    return this.offsetCol[seq % this.capacity];
  }

  flags(seq: number): number {
    return this.flagCol[seq % this.capacity];
  }

  key(seq: number): string {
    return this.keyCol[seq % this.capacity] as string;
  }

  value(seq: number): string {
    return this.valueCol[seq % this.capacity] as string;
  }

  setFlag(seq: number, flag: number): void {
    this.flagCol[seq % this.capacity] |= flag;
  }

  /** Mark closed and drop the raw text, which is no longer needed once the label is out. */
  close(seq: number): void {
    const i = seq % this.capacity;
    this.flagCol[i] |= CLOSED;
    this.valueCol[i] = undefined;
  }

  /** Free entries from the head while `expired(seq)` holds for the oldest one. */
  freeHead(expired: (seq: number) => boolean): void {
    while (this.head < this.tail && expired(this.head)) {
      const i = this.head % this.capacity;
      if ((this.flagCol[i] & SUPERSEDED) === 0) this.index.delete(this.keyCol[i] as string);
      this.keyCol[i] = undefined;
      this.valueCol[i] = undefined;
      this.head++;
    }
  }

  /** Input offset of the oldest entry held, or `fallback` when empty. */
  oldestOffset(fallback: number): number {
    return this.head < this.tail ? this.offsetCol[this.head % this.capacity] : fallback;
  }

  /** Offsets of held entries with all bits of `flag` set, in arrival order. */
  offsetsWith(flag: number): number[] {
    const out: number[] = [];
    for (let seq = this.head; seq < this.tail; seq++) {
      const i = seq % this.capacity;
      if ((this.flagCol[i] & flag) === flag) out.push(this.offsetCol[i]);
    }
    return out;
  }

  private grow(): void {
    const old = this.capacity;
    const cap = old * 2;
    const ts = new Float64Array(cap);
    const offset = new Float64Array(cap);
    const flags = new Uint8Array(cap);
    const keys = new Array<string | undefined>(cap);
    const values = new Array<string | undefined>(cap);
    for (let seq = this.head; seq < this.tail; seq++) {
      const from = seq % old;
      const to = seq % cap;
      ts[to] = this.tsCol[from];
      offset[to] = this.offsetCol[from];
      flags[to] = this.flagCol[from];
      keys[to] = this.keyCol[from];
      values[to] = this.valueCol[from];
    }
    this.capacity = cap;
    this.tsCol = ts;
    this.offsetCol = offset;
    this.flagCol = flags;
    this.keyCol = keys;
    this.valueCol = values;
  }
}
