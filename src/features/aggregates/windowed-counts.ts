/**
 * Sliding-window impression/click counts for one entity type, in event time.
 *
 * Each window is a ring of time buckets. A bucket holds only the deltas of the entities active in it
 * (parallel typed arrays of slot, impressions, clicks), and every entity keeps a running sum per
 * window; when event time moves past a bucket, its deltas are subtracted and the bucket is reused.
 * So memory follows activity (not entities × buckets), an update is O(windows), and an entity whose
 * counts all fall to zero is forgotten once it has been flushed. Entities are slots in typed arrays.
 */
import type { WindowSpec } from '../definitions.ts';

/** Flags of a slot: changed since the last online flush / since the last snapshot. */
export const DIRTY_ONLINE = 1;
export const DIRTY_SNAPSHOT = 2;

class Bucket {
  /** Absolute bucket number (floor(ts / bucketMs)), -1 when empty. */
  no = -1;
  n = 0;
  slots = new Int32Array(64);
  imps = new Uint32Array(64);
  clicks = new Uint32Array(64);

  append(slot: number, imps: number, clicks: number): number {
    if (this.n === this.slots.length) {
      const grow = <T extends Int32Array | Uint32Array>(a: T, make: (n: number) => T): T => {
        const b = make(a.length * 2);
        b.set(a);
        return b;
      };
      this.slots = grow(this.slots, (n) => new Int32Array(n));
      this.imps = grow(this.imps, (n) => new Uint32Array(n));
      this.clicks = grow(this.clicks, (n) => new Uint32Array(n));
    }
    const pos = this.n++;
    this.slots[pos] = slot;
    this.imps[pos] = imps;
    this.clicks[pos] = clicks;
    return pos;
  }
}

/** A dense, growable list of slot numbers. */
class SlotList {
  items = new Int32Array(256);
  n = 0;
  push(slot: number): void {
    if (this.n === this.items.length) {
      const next = new Int32Array(this.items.length * 2);
      next.set(this.items);
      this.items = next;
    }
    this.items[this.n++] = slot;
  }
}

export interface WindowedCountsState {
  readonly keys: (string | null)[];
  readonly heads: number[];
  readonly sums: Uint32Array;
  readonly flags: Uint8Array;
  readonly buckets: { no: number; slots: Int32Array; imps: Uint32Array; clicks: Uint32Array }[][];
}

export class WindowedCounts {
  readonly windows: readonly WindowSpec[];
  /** Values per slot in `sums`: impressions and clicks per window. */
  readonly stride: number;
  private readonly ringSize: number[];
  private readonly rings: Bucket[][];
  private readonly heads: Float64Array;
  private readonly index = new Map<string, number>();
  private keys: (string | null)[] = [];
  private readonly free: number[] = [];
  private capacity = 0;
  /** Running sums per slot: [imps w0, clicks w0, imps w1, clicks w1, …]. */
  sums = new Uint32Array(0);
  private lastBucket = new Int32Array(0);
  private lastPos = new Int32Array(0);
  private flags = new Uint8Array(0);
  private readonly dirty = [new SlotList(), new SlotList()];
  /** Updates dropped per window because their bucket had already left the window. */
  readonly late: Float64Array;
  /** Whether DIRTY_SNAPSHOT is tracked: a list nobody drains would keep zero entities forever. */
  private readonly trackSnapshots: boolean;

  constructor(windows: readonly WindowSpec[], opts: { trackSnapshots?: boolean; initialCapacity?: number } = {}) {
    this.windows = windows;
    this.trackSnapshots = opts.trackSnapshots ?? false;
    this.stride = 2 * windows.length;
    this.ringSize = windows.map((w) => Math.ceil(w.spanMs / w.bucketMs));
    this.rings = this.ringSize.map((b) => Array.from({ length: b }, () => new Bucket()));
    this.heads = new Float64Array(windows.length).fill(-Infinity);
    this.late = new Float64Array(windows.length);
    this.grow(opts.initialCapacity ?? 1024);
  }

  /** Entities currently held (with a non-zero count or not yet flushed). */
  get size(): number {
    return this.index.size;
  }

  /** Move event time to `ts` (never backwards), evicting buckets that leave each window. */
  advance(ts: number): void {
    for (let w = 0; w < this.windows.length; w++) {
      const b = Math.floor(ts / this.windows[w].bucketMs);
      if (b <= this.heads[w]) continue;
      this.heads[w] = b;
      const oldest = b - this.ringSize[w] + 1;
      for (const bucket of this.rings[w]) if (bucket.no !== -1 && bucket.no < oldest) this.evict(w, bucket);
    }
  }

  /** Count `imps` impressions and `clicks` clicks of `key` at event time `ts` (also advances time to `ts`). */
  add(key: string, ts: number, imps: number, clicks: number): void {
    this.advance(ts);
    const slot = this.slotOf(key);
    const W = this.windows.length;
    for (let w = 0; w < W; w++) {
      const b = Math.floor(ts / this.windows[w].bucketMs);
      const size = this.ringSize[w];
      if (b <= this.heads[w] - size) {
        this.late[w]++;
        continue;
      }
      const bucket = this.rings[w][b % size];
      if (bucket.no !== b) {
        if (bucket.no !== -1) this.evict(w, bucket);
        bucket.no = b;
      }
      const li = slot * W + w;
      if (this.lastBucket[li] === b) {
        const pos = this.lastPos[li];
        bucket.imps[pos] += imps;
        bucket.clicks[pos] += clicks;
      } else {
        this.lastBucket[li] = b;
        this.lastPos[li] = bucket.append(slot, imps, clicks);
      }
      this.sums[slot * this.stride + 2 * w] += imps;
      this.sums[slot * this.stride + 2 * w + 1] += clicks;
    }
    this.mark(slot);
  }

  /** Mark `key` changed (held again with zero counts if it was forgotten), so the next drain visits it. */
  touch(key: string): void {
    this.mark(this.slotOf(key));
  }

  /** Mark every held entity changed (to rewrite a store that lost its contents). */
  touchAll(): void {
    for (const slot of this.index.values()) this.mark(slot);
  }

  /** Current counts of `key` (`[imps, clicks]` per window), or null when not held. */
  counts(key: string): number[] | null {
    const slot = this.index.get(key);
    if (slot === undefined) return null;
    return Array.from(this.sums.subarray(slot * this.stride, (slot + 1) * this.stride));
  }

  /**
   * Visit every entity changed since the last drain of this kind (`DIRTY_ONLINE` or `DIRTY_SNAPSHOT`)
   * with its sums at `offset` in `sums`, then forget entities whose counts are all zero and that no
   * other drain still owes a visit.
   */
  drain(kind: number, visit: (key: string, sums: Uint32Array, offset: number) => void): number {
    const list = this.dirty[kind === DIRTY_ONLINE ? 0 : 1];
    const n = list.n;
    for (let i = 0; i < n; i++) {
      const slot = list.items[i];
      this.flags[slot] &= ~kind;
      visit(this.keys[slot]!, this.sums, slot * this.stride);
      if (this.flags[slot] === 0 && this.isZero(slot)) this.release(slot);
    }
    list.n = 0;
    return n;
  }

  /** Entities waiting for a drain of this kind. */
  pending(kind: number): number {
    return this.dirty[kind === DIRTY_ONLINE ? 0 : 1].n;
  }

  /** The state, as views of the live arrays: serialize it before the next update. */
  exportState(): WindowedCountsState {
    const used = this.keys.length;
    return {
      keys: this.keys,
      heads: Array.from(this.heads),
      sums: this.sums.subarray(0, used * this.stride),
      flags: this.flags.subarray(0, used),
      buckets: this.rings.map((ring) =>
        ring.map((b) => ({ no: b.no, slots: b.slots.subarray(0, b.n), imps: b.imps.subarray(0, b.n), clicks: b.clicks.subarray(0, b.n) })),
      ),
    };
  }

  /** Replace the state with `s` (which it takes over: the arrays must not be used elsewhere after). */
  importState(s: WindowedCountsState): void {
    if (s.buckets.length !== this.windows.length || s.buckets.some((r, w) => r.length !== this.ringSize[w])) {
      throw new Error(`aggregate state has windows ${s.buckets.map((r) => r.length).join('/')} buckets, expected ${this.ringSize.join('/')}`);
    }
    this.index.clear();
    this.free.length = 0;
    this.dirty.forEach((l) => (l.n = 0));
    this.grow(Math.max(1024, s.keys.length));
    this.keys = s.keys.slice();
    this.sums.fill(0);
    this.sums.set(s.sums);
    this.flags.fill(0);
    this.lastBucket.fill(-1);
    for (let slot = 0; slot < s.keys.length; slot++) {
      const k = s.keys[slot];
      if (k === null) this.free.push(slot);
      else this.index.set(k, slot);
    }
    for (let slot = 0; slot < s.flags.length; slot++) {
      const f = s.flags[slot];
      if (f & DIRTY_ONLINE) this.dirty[0].push(slot);
      if (f & DIRTY_SNAPSHOT) this.dirty[1].push(slot);
      this.flags[slot] = f;
    }
    s.heads.forEach((h, w) => (this.heads[w] = h));
    s.buckets.forEach((ring, w) =>
      ring.forEach((b, i) => {
        const bucket = new Bucket();
        bucket.no = b.no;
        bucket.n = b.slots.length;
        // Keep room to grow, as `append` would have.
        const cap = Math.max(64, bucket.n * 2);
        bucket.slots = new Int32Array(cap);
        bucket.slots.set(b.slots);
        bucket.imps = new Uint32Array(cap);
        bucket.imps.set(b.imps);
        bucket.clicks = new Uint32Array(cap);
        bucket.clicks.set(b.clicks);
        this.rings[w][i] = bucket;
      }),
    );
  }

  private evict(w: number, bucket: Bucket): void {
    const s = this.sums;
    for (let i = 0; i < bucket.n; i++) {
      const slot = bucket.slots[i];
      s[slot * this.stride + 2 * w] -= bucket.imps[i];
      s[slot * this.stride + 2 * w + 1] -= bucket.clicks[i];
      if (this.lastBucket[slot * this.windows.length + w] === bucket.no) this.lastBucket[slot * this.windows.length + w] = -1;
      this.mark(slot);
    }
    bucket.no = -1;
    bucket.n = 0;
  }

  private mark(slot: number): void {
    const f = this.flags[slot];
    if ((f & DIRTY_ONLINE) === 0) this.dirty[0].push(slot);
    if (this.trackSnapshots && (f & DIRTY_SNAPSHOT) === 0) this.dirty[1].push(slot);
    this.flags[slot] = f | DIRTY_ONLINE | (this.trackSnapshots ? DIRTY_SNAPSHOT : 0);
  }

  private isZero(slot: number): boolean {
    for (let i = slot * this.stride; i < (slot + 1) * this.stride; i++) if (this.sums[i] !== 0) return false;
    return true;
  }

  private slotOf(key: string): number {
    let slot = this.index.get(key);
    if (slot !== undefined) return slot;
    slot = this.free.pop();
    if (slot === undefined) {
      slot = this.keys.length;
      this.keys.push(key);
      if (slot >= this.capacity) this.grow(this.capacity * 2);
    } else {
      this.keys[slot] = key;
    }
    this.lastBucket.fill(-1, slot * this.windows.length, (slot + 1) * this.windows.length);
    this.index.set(key, slot);
    return slot;
  }

  private release(slot: number): void {
    this.index.delete(this.keys[slot]!);
    this.keys[slot] = null;
    this.free.push(slot);
  }

  private grow(capacity: number): void {
    if (capacity <= this.capacity) return;
    const W = this.windows.length;
    const sums = new Uint32Array(capacity * this.stride);
    sums.set(this.sums);
    const lastBucket = new Int32Array(capacity * W).fill(-1);
    lastBucket.set(this.lastBucket);
    const lastPos = new Int32Array(capacity * W);
    lastPos.set(this.lastPos);
    const flags = new Uint8Array(capacity);
    flags.set(this.flags);
    [this.sums, this.lastBucket, this.lastPos, this.flags, this.capacity] = [sums, lastBucket, lastPos, flags, capacity];
  }
}
