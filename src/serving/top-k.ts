/**
 * Ordering with business rules: the k candidates of highest eCPM among those whose pCTR reaches the
 * minimum, at most one per campaign. A binary max-heap over candidate indices is built in O(n) and
 * popped until k are taken, so the work is O(n + taken·log n) rather than a full sort, and the
 * buffers are reused across requests (no allocation once grown). Ties go to the earlier candidate.
 */

export interface TopKInput {
  readonly n: number;
  readonly eCPM: Float64Array;
  readonly pCTR: Float32Array;
  /** Business rule: candidates with pCTR below this are never served. */
  readonly minPctr: number;
  /** Campaign slot of each candidate (0 ≤ slot < groups): at most one ad per slot is taken. */
  readonly group: Int32Array;
  readonly groups: number;
  readonly k: number;
}

export class TopKSelector {
  private heap = new Int32Array(256);
  private taken = new Uint8Array(256);

  /** Writes the chosen candidate indices, best first, into `out`; returns how many (≤ k). */
  select(input: TopKInput, out: Int32Array): number {
    const { n, eCPM, pCTR, minPctr, group, groups, k } = input;
    if (this.heap.length < n) this.heap = new Int32Array(Math.max(n, this.heap.length * 2));
    if (this.taken.length < groups) this.taken = new Uint8Array(Math.max(groups, this.taken.length * 2));
    const heap = this.heap;
    let size = 0;
    for (let i = 0; i < n; i++) {
      const p = pCTR[i];
      // NaN fails the comparison, so a model that misbehaves on one row never serves that row.
      if (p >= minPctr && eCPM[i] === eCPM[i]) heap[size++] = i;
    }
    for (let i = (size >> 1) - 1; i >= 0; i--) siftDown(heap, size, i, eCPM);
    const taken = this.taken;
    let count = 0;
    while (count < k && size > 0) {
      const top = heap[0];
      heap[0] = heap[--size];
      siftDown(heap, size, 0, eCPM);
      const g = group[top];
      if (taken[g] === 1) continue;
      taken[g] = 1;
      out[count++] = top;
    }
    for (let j = 0; j < count; j++) taken[group[out[j]]] = 0;
    return count;
  }
}

/** a ranks before b: higher eCPM, then lower index. */
function before(a: number, b: number, eCPM: Float64Array): boolean {
  const x = eCPM[a];
  const y = eCPM[b];
  return x > y || (x === y && a < b);
}

function siftDown(heap: Int32Array, size: number, at: number, eCPM: Float64Array): void {
  const item = heap[at];
  let i = at;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= size) break;
    const r = l + 1;
    const c = r < size && before(heap[r], heap[l], eCPM) ? r : l;
    if (!before(heap[c], item, eCPM)) break;
    heap[i] = heap[c];
    i = c;
  }
  heap[i] = item;
}
