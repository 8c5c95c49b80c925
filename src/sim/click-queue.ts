/**
 * Pending clicks ordered by event time: a binary min-heap over two parallel typed arrays, so the
 * generator schedules a click without allocating. `ref` is the generator's handle for the click
 * (an impression number, or a negative number for a click on an unknown impression).
 */
export class ClickQueue {
  private ts: Float64Array;
  private ref: Float64Array;
  size = 0;
  /** Time and ref of the last `pop()`. */
  poppedTs = 0;
  poppedRef = 0;

  constructor(capacity = 1024) {
    this.ts = new Float64Array(capacity);
    this.ref = new Float64Array(capacity);
  }

  /** Event time of the earliest pending click (Infinity when none). */
  peekTs(): number {
    return this.size > 0 ? this.ts[0] : Infinity;
  }

  push(ts: number, ref: number): void {
    if (this.size === this.ts.length) this.grow();
    const T = this.ts;
    const R = this.ref;
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (T[parent] <= ts) break;
      T[i] = T[parent];
      R[i] = R[parent];
      i = parent;
    }
    T[i] = ts;
    R[i] = ref;
  }

  pop(): void {
    const T = this.ts;
    const R = this.ref;
    this.poppedTs = T[0];
    this.poppedRef = R[0];
    const n = --this.size;
    if (n === 0) return;
    const ts = T[n];
    const ref = R[n];
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && T[child + 1] < T[child]) child++;
      if (T[child] >= ts) break;
      T[i] = T[child];
      R[i] = R[child];
      i = child;
    }
    T[i] = ts;
    R[i] = ref;
  }

  private grow(): void {
    const ts = new Float64Array(this.ts.length * 2);
    ts.set(this.ts);
    this.ts = ts;
    const ref = new Float64Array(this.ref.length * 2);
    ref.set(this.ref);
    this.ref = ref;
  }
}
