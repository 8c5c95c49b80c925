/**
 * Event-time buckets in a ring: `count` buckets of `widthMs`, each holding `slots` float counters
 * (impressions, clicks, Σ pCTR…). An event at time t lands in bucket ⌊t / width⌋; a bucket that the
 * ring wraps onto is cleared when it is first written again, so advancing costs nothing per bucket.
 * Events older than the ring's span are counted as `dropped` rather than mixed into a newer bucket.
 * All state is typed arrays: adding allocates nothing.
 */
import { PctrError } from '../core/index.ts';

export class TimeBuckets {
  readonly widthMs: number;
  readonly count: number;
  readonly slots: number;
  /** Bucket b's counters are data[pos·slots, (pos + 1)·slots) with pos = b mod count, while keys[pos] = b. */
  readonly data: Float64Array;
  private readonly keys: Float64Array;
  private newestKey = -Infinity;
  /** Events older than the span when they arrived. */
  dropped = 0;

  constructor(widthMs: number, count: number, slots: number) {
    if (!(widthMs >= 1) || !Number.isInteger(count) || count < 1 || !Number.isInteger(slots) || slots < 1) {
      throw new PctrError('PCTR_VALIDATION', `time buckets need width ≥ 1 ms, count ≥ 1 and slots ≥ 1 (got ${widthMs} ms, ${count}, ${slots})`);
    }
    this.widthMs = widthMs;
    this.count = count;
    this.slots = slots;
    this.data = new Float64Array(count * slots);
    this.keys = new Float64Array(count).fill(-Infinity);
  }

  /** Start time of the newest bucket written, or null before any. */
  get newestStart(): number | null {
    return this.newestKey === -Infinity ? null : this.newestKey * this.widthMs;
  }

  /** Start time of the bucket holding `ts`. */
  startOf(ts: number): number {
    return Math.floor(ts / this.widthMs) * this.widthMs;
  }

  /** Offset of the counters of ts's bucket in `data` (cleared if the ring reused it), or -1 when ts is older than the span. */
  offset(ts: number): number {
    const key = Math.floor(ts / this.widthMs);
    if (key <= this.newestKey - this.count) {
      this.dropped++;
      return -1;
    }
    if (key > this.newestKey) this.newestKey = key;
    const pos = ((key % this.count) + this.count) % this.count;
    const base = pos * this.slots;
    if (this.keys[pos] !== key) {
      this.keys[pos] = key;
      this.data.fill(0, base, base + this.slots);
    }
    return base;
  }

  add(ts: number, slot: number, value = 1): void {
    const base = this.offset(ts);
    if (base >= 0) this.data[base + slot] += value;
  }

  /** Offset of the counters of the bucket starting at `start` for reading, or -1 when it holds nothing. */
  private readOffset(start: number): number {
    const key = Math.round(start / this.widthMs);
    const pos = ((key % this.count) + this.count) % this.count;
    return this.keys[pos] === key ? pos * this.slots : -1;
  }

  /**
   * Sums every slot over the buckets starting in [from, to) into `out` (length ≥ slots), which it
   * zeroes first; returns how many of those buckets held data.
   */
  sum(from: number, to: number, out: Float64Array): number {
    out.fill(0, 0, this.slots);
    let filled = 0;
    for (let start = Math.ceil(from / this.widthMs) * this.widthMs; start < to; start += this.widthMs) {
      const base = this.readOffset(start);
      if (base < 0) continue;
      filled++;
      for (let s = 0; s < this.slots; s++) out[s] += this.data[base + s];
    }
    return filled;
  }

  /** One slot per bucket over the buckets starting in [from, to), oldest first (0 for empty buckets). */
  column(from: number, to: number, slot: number): number[] {
    const out: number[] = [];
    for (let start = Math.ceil(from / this.widthMs) * this.widthMs; start < to; start += this.widthMs) {
      const base = this.readOffset(start);
      out.push(base < 0 ? 0 : this.data[base + slot]);
    }
    return out;
  }

  /** Bucket start times in [from, to), oldest first. */
  starts(from: number, to: number): number[] {
    const out: number[] = [];
    for (let start = Math.ceil(from / this.widthMs) * this.widthMs; start < to; start += this.widthMs) out.push(start);
    return out;
  }
}
