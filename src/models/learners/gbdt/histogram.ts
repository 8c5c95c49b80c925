/**
 * Gradient histograms, the inner loop of histogram boosting. For the rows of one tree node and a
 * range of features, each feature's histogram holds per bin the sums of gradient, hessian and row
 * count, interleaved (g, h, c) so one bin is one cache line's worth of work. Binned features are
 * column-major (one Uint8Array of n rows per feature); a node's rows are a sorted range of a row
 * index, and its (gradient, hessian) pairs are gathered into index order once, before the features
 * are walked. Four features share one pass over the node's rows (their loads of row, g and h),
 * which measured 1.9× faster than one feature at a time. This is the typed-array kernel; training
 * uses the WASM SIMD one (histogram-kernel.ts), which sums the same way, where the runtime has it.
 * The same code runs on the main thread and in workers.
 */

/** Control words of one worker in HistogramThreads' shared Int32Array (STRIDE words per worker). */
export const CTRL = { SEQ: 0, OP: 1, BASE: 2, START: 3, END: 4, FFROM: 5, FTO: 6, DONE: 7, STRIDE: 16 } as const;
export const OP_BUILD = 1;
export const OP_STOP = 2;
/** Mark the leaves of, then update, the rows of chunks [FFROM, FTO) (row-update.ts). */
export const OP_MARK = 3;
export const OP_UPDATE = 4;

/** Doubles per bin: gradient, hessian, count. */
export const BIN_STRIDE = 3;

/** Where each feature's bins start in a histogram, and the histogram's size (doubles). */
export function histogramLayout(binCounts: ArrayLike<number>): { offsets: Int32Array; size: number } {
  const offsets = new Int32Array(binCounts.length);
  let size = 0;
  for (let f = 0; f < binCounts.length; f++) {
    offsets[f] = size;
    size += BIN_STRIDE * binCounts[f];
  }
  return { offsets, size };
}

export interface HistogramInput {
  /** Binned features, column-major: feature f of row r at f·rows + r. */
  readonly bins: Uint8Array;
  readonly rows: number;
  /** Row numbers of the nodes, each node a sorted range. */
  readonly index: Int32Array;
  /** (gradient, hessian) of row r at 2r, 2r + 1. */
  readonly gh: Float32Array;
  /** The pairs gathered into index order (`gather`): position i's at 2i, 2i + 1. */
  readonly pairs: Float32Array;
  /** Room for the right side of a partition (rows long). */
  readonly scratch: Int32Array;
  readonly hist: Float64Array;
  /** Per feature, its offset in a histogram (doubles). */
  readonly offsets: Int32Array;
  readonly binCounts: Int32Array;
  /** The features to build (all of them, in training). */
  readonly features: Int32Array;
  /** The WebAssembly memory every array above is a view of, when the WASM kernel is to run on them. */
  readonly memory?: WebAssembly.Memory | null;
}

export interface HistogramKernels {
  /** Builds the histograms of features[fFrom..fTo) for index positions [start, end) into the histogram at `base`. */
  readonly build: (base: number, start: number, end: number, fFrom: number, fTo: number) => void;
  /** Gathers the pairs of index positions [start, end) (before `build` on them). */
  readonly gather: (start: number, end: number) => void;
  /** Stable partition of index[start, end) by "bin of `feature` ≤ bin" (missing left or not); returns where the right side starts. */
  readonly partition: (start: number, end: number, feature: number, bin: number, missingLeft: boolean) => number;
}

/** The typed-array partition (HistogramKernels.partition). */
export function partitionRows(x: HistogramInput, start: number, end: number, feature: number, bin: number, missingLeft: boolean): number {
  const { index, scratch: right, rows } = x;
  const bins = x.bins.subarray(feature * rows, feature * rows + rows);
  let l = start;
  let k = 0;
  for (let i = start; i < end; i++) {
    const row = index[i];
    const b = bins[row];
    if (b === 0 ? missingLeft : b <= bin) index[l++] = row;
    else right[k++] = row;
  }
  index.set(right.subarray(0, k), l);
  return l;
}

export function gatherPairs(x: HistogramInput, start: number, end: number): void {
  const { index, gh, pairs } = x;
  for (let i = start; i < end; i++) {
    const r = index[i];
    pairs[2 * i] = gh[2 * r];
    pairs[2 * i + 1] = gh[2 * r + 1];
  }
}

/**
 * Builds the histograms of features[fFrom..fTo) for index positions [start, end) into the histogram
 * starting at `base`.
 */
export function buildHistograms(x: HistogramInput, base: number, start: number, end: number, fFrom: number, fTo: number): void {
  const { bins, rows, index, pairs, hist, offsets, binCounts, features } = x;
  for (let k = fFrom; k < fTo; k++) {
    const o = base + offsets[features[k]];
    hist.fill(0, o, o + BIN_STRIDE * binCounts[features[k]]);
  }
  let k = fFrom;
  for (; k + 4 <= fTo; k += 4) {
    const f0 = features[k];
    const f1 = features[k + 1];
    const f2 = features[k + 2];
    const f3 = features[k + 3];
    const b0 = bins.subarray(f0 * rows, f0 * rows + rows);
    const b1 = bins.subarray(f1 * rows, f1 * rows + rows);
    const b2 = bins.subarray(f2 * rows, f2 * rows + rows);
    const b3 = bins.subarray(f3 * rows, f3 * rows + rows);
    const o0 = base + offsets[f0];
    const o1 = base + offsets[f1];
    const o2 = base + offsets[f2];
    const o3 = base + offsets[f3];
    for (let i = start; i < end; i++) {
      const r = index[i];
      const gi = pairs[2 * i];
      const hi = pairs[2 * i + 1];
      let b = o0 + b0[r] * 3;
      hist[b] += gi;
      hist[b + 1] += hi;
      hist[b + 2]++;
      b = o1 + b1[r] * 3;
      hist[b] += gi;
      hist[b + 1] += hi;
      hist[b + 2]++;
      b = o2 + b2[r] * 3;
      hist[b] += gi;
      hist[b + 1] += hi;
      hist[b + 2]++;
      b = o3 + b3[r] * 3;
      hist[b] += gi;
      hist[b + 1] += hi;
      hist[b + 2]++;
    }
  }
  for (; k < fTo; k++) {
    const f = features[k];
    const bf = bins.subarray(f * rows, f * rows + rows);
    const o = base + offsets[f];
    for (let i = start; i < end; i++) {
      const b = o + bf[index[i]] * 3;
      hist[b] += pairs[2 * i];
      hist[b + 1] += pairs[2 * i + 1];
      hist[b + 2]++;
    }
  }
}

/** parent −= child over `size` doubles: the parent's histogram becomes the child's sibling's. */
export function subtractHistogram(hist: Float64Array, parentBase: number, childBase: number, size: number): void {
  for (let i = 0; i < size; i++) hist[parentBase + i] -= hist[childBase + i];
}
