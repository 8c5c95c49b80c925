/**
 * A binary min-heap of (key, value) number pairs in typed arrays: the join's timer queue (window
 * ends → impression sequence numbers). Input is nearly time-ordered, so a push usually stops at once;
 * a pop costs log2(pending) comparisons, allocation-free.
 */
export class MinHeap {
  private keys: Float64Array;
  private values: Float64Array;
  private n = 0;

  constructor(capacity = 1024) {
    this.keys = new Float64Array(capacity);
    this.values = new Float64Array(capacity);
  }

  get size(): number {
    return this.n;
  }

  /** Smallest key, or +Infinity when empty. */
  peekKey(): number {
    return this.n === 0 ? Infinity : this.keys[0];
  }

  peekValue(): number {
    return this.values[0];
  }

  push(key: number, value: number): void {
    if (this.n === this.keys.length) this.grow();
    const keys = this.keys;
    const values = this.values;
    let i = this.n++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (keys[parent] <= key) break;
      keys[i] = keys[parent];
      values[i] = values[parent];
      i = parent;
    }
    keys[i] = key;
    values[i] = value;
  }

  /** Remove the smallest entry and return its value (the key was read with peekKey). */
  pop(): number {
    const keys = this.keys;
    const values = this.values;
    const top = values[0];
    const n = --this.n;
    if (n === 0) return top;
    const key = keys[n];
    const value = values[n];
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && keys[child + 1] < keys[child]) child++;
      if (keys[child] >= key) break;
      keys[i] = keys[child];
      values[i] = values[child];
      i = child;
    }
    keys[i] = key;
    values[i] = value;
    return top;
  }

  clear(): void {
    this.n = 0;
  }

  private grow(): void {
    const keys = new Float64Array(this.keys.length * 2);
    const values = new Float64Array(this.values.length * 2);
    keys.set(this.keys);
    values.set(this.values);
    this.keys = keys;
    this.values = values;
  }
}
