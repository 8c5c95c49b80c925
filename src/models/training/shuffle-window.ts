/**
 * Collects encoded rows (copied out of the encoder's reused buffers) into a window of up to
 * `capacity` rows, so a learner can visit them in shuffled order: shuffling within time windows
 * breaks up runs of similar rows without letting the model see the future far ahead.
 */
import type { EncodedBatch } from '../encoding/encoder.ts';

export class ShuffleWindow {
  private offsets: Int32Array;
  private indices = new Int32Array(0);
  private values = new Float32Array(0);
  private fields = new Uint16Array(0);
  private labels: Uint8Array;
  private n = 0;

  constructor(readonly capacity: number) {
    this.offsets = new Int32Array(capacity + 1);
    this.labels = new Uint8Array(capacity);
  }

  get size(): number {
    return this.n;
  }

  get full(): boolean {
    return this.n === this.capacity;
  }

  /** Copies rows [from, from + count) of `enc`; returns how many fit. */
  add(enc: EncodedBatch, from: number): number {
    const count = Math.min(enc.n - from, this.capacity - this.n);
    const a = enc.offsets[from];
    const b = enc.offsets[from + count];
    const base = this.offsets[this.n];
    if (base + (b - a) > this.indices.length) this.grow(base + (b - a));
    this.indices.set(enc.indices.subarray(a, b), base);
    this.values.set(enc.values.subarray(a, b), base);
    this.fields.set(enc.fields.subarray(a, b), base);
    for (let r = 0; r < count; r++) {
      this.offsets[this.n + r + 1] = enc.offsets[from + r + 1] - a + base;
      this.labels[this.n + r] = enc.labels![from + r];
    }
    this.n += count;
    return count;
  }

  /** The collected rows as a batch (views), then empties the window for reuse. */
  drain(): EncodedBatch {
    const batch: EncodedBatch = {
      n: this.n,
      offsets: this.offsets,
      indices: this.indices,
      values: this.values,
      fields: this.fields,
      labels: this.labels,
    };
    this.n = 0;
    return batch;
  }

  private grow(tokens: number): void {
    const cap = Math.max(tokens, this.indices.length * 2);
    const grow = <T extends Int32Array | Float32Array | Uint16Array>(old: T, make: (n: number) => T): T => {
      const next = make(cap);
      next.set(old);
      return next;
    };
    this.indices = grow(this.indices, (n) => new Int32Array(n));
    this.values = grow(this.values, (n) => new Float32Array(n));
    this.fields = grow(this.fields, (n) => new Uint16Array(n));
  }
}
