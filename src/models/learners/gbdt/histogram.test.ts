import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../../test/helpers/synthetic-ctr.ts';
import { buildHistograms, gatherPairs, histogramLayout, subtractHistogram, type HistogramInput, type HistogramKernels } from './histogram.ts';
import { histogramKernels, trainingArrays } from './histogram-kernel.ts';

/** Random rows in training's shared WebAssembly memory (`wasm`) or in plain arrays. */
function input(rows: number, binCounts: number[], seed: number, wasm = true): HistogramInput {
  const rand = seededRandom(seed);
  const { offsets } = histogramLayout(binCounts);
  const arrays = trainingArrays(rows, binCounts.length, 255, 3);
  const x: HistogramInput = wasm
    ? { ...arrays, rows, offsets, binCounts: Int32Array.from(binCounts), features: Int32Array.from(binCounts, (_, f) => f) }
    : { bins: new Uint8Array(arrays.bins.length), rows, index: new Int32Array(rows), gh: new Float32Array(2 * rows), pairs: new Float32Array(2 * rows), scratch: new Int32Array(rows), hist: new Float64Array(arrays.hist.length), offsets, binCounts: Int32Array.from(binCounts), features: Int32Array.from(binCounts, (_, f) => f) };
  for (let i = 0; i < x.bins.length; i++) x.bins[i] = Math.floor(rand() * binCounts[Math.floor(i / rows)]);
  for (let i = 0; i < rows; i++) {
    x.index[i] = i;
    x.gh[2 * i] = rand() - 0.5;
    x.gh[2 * i + 1] = rand() / 4;
  }
  return x;
}

type Build = HistogramKernels['build'];

/** Gather, then build, as HistogramThreads does. */
const gatherAndBuild = (k: HistogramKernels): Build => (base, start, end, fFrom, fTo) => {
  k.gather(start, end);
  k.build(base, start, end, fFrom, fTo);
};

const KERNELS: [string, (x: HistogramInput) => Build][] = [
  ['WASM SIMD', (x) => gatherAndBuild(histogramKernels(x))],
  ['typed-array', (x) => gatherAndBuild({ build: (...a) => buildHistograms(x, ...a), gather: (start, end) => gatherPairs(x, start, end), partition: () => 0 })],
];

describe.each(KERNELS)('GBDT histograms, %s kernel', (_, kernel) => {
  it('sum gradient, hessian and count per bin of every feature (4-feature passes and the rest)', () => {
    const x = input(500, [7, 3, 256, 2, 5, 9], 1);
    const { size } = histogramLayout(x.binCounts);
    kernel(x)(size, 100, 400, 0, 6);
    for (let f = 0; f < 6; f++) {
      for (let b = 0; b < x.binCounts[f]; b++) {
        let [g, h, c] = [0, 0, 0];
        for (let i = 100; i < 400; i++) {
          const r = x.index[i];
          if (x.bins[f * 500 + r] === b) [g, h, c] = [g + x.gh[2 * r], h + x.gh[2 * r + 1], c + 1];
        }
        const o = size + x.offsets[f] + 3 * b;
        expect(x.hist[o]).toBeCloseTo(g, 9);
        expect(x.hist[o + 1]).toBeCloseTo(h, 9);
        expect(x.hist[o + 2]).toBe(c);
      }
    }
  });

  it('gives the larger child by subtraction what building it directly gives', () => {
    const x = input(2000, [40, 255, 12, 3, 100], 2);
    const build = kernel(x);
    const { size } = histogramLayout(x.binCounts);
    // Parent = all rows; children = a split of the index at position 700 (rows in any order).
    const rand = seededRandom(3);
    for (let i = x.rows - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [x.index[i], x.index[j]] = [x.index[j], x.index[i]];
    }
    build(0, 0, 2000, 0, 5);
    build(size, 0, 700, 0, 5);
    subtractHistogram(x.hist, 0, size, size);
    build(2 * size, 700, 2000, 0, 5);
    for (let i = 0; i < size; i++) expect(x.hist[i]).toBeCloseTo(x.hist[2 * size + i], 9);
  });
});

describe('GBDT histogram kernels', () => {
  it('training memory is a WebAssembly memory, so the WASM kernel runs', () => {
    expect(trainingArrays(10, 2, 255, 31).memory).toBeInstanceOf(WebAssembly.Memory);
  });

  it('the WASM kernel sums exactly as the typed-array kernel (same order, bit for bit)', () => {
    const counts = [256, 3, 17, 2, 256, 64, 9];
    const [a, b] = [input(3000, counts, 4, true), input(3000, counts, 4, false)];
    expect(a.memory).toBeTruthy();
    const rand = seededRandom(5);
    const order = Int32Array.from({ length: 3000 }, (_, i) => i).sort(() => rand() - 0.5);
    a.index.set(order);
    b.index.set(order);
    const { size } = histogramLayout(counts);
    const [wasm, js] = [gatherAndBuild(histogramKernels(a)), gatherAndBuild(histogramKernels(b))];
    for (const [base, start, end, fFrom, fTo] of [[0, 0, 3000, 0, 7], [size, 17, 2950, 1, 6], [2 * size, 500, 501, 3, 7]]) {
      wasm(base, start, end, fFrom, fTo);
      js(base, start, end, fFrom, fTo);
    }
    expect(a.hist.subarray(0, 3 * size)).toEqual(b.hist.subarray(0, 3 * size));
    expect(a.hist.subarray(0, 3 * size).some((v) => v !== 0)).toBe(true);
  });

  it('partition rows stably by a split, missing values to the chosen side, in both kernels alike', () => {
    const counts = [9, 256];
    for (const missingLeft of [false, true]) {
      const [a, b] = [input(1000, counts, 6, true), input(1000, counts, 6, false)];
      const rand = seededRandom(7);
      const order = Int32Array.from({ length: 1000 }, (_, i) => i).sort(() => rand() - 0.5);
      a.index.set(order);
      b.index.set(order);
      const [wasm, js] = [histogramKernels(a), histogramKernels(b)];
      for (const [start, end, feature, bin] of [[0, 1000, 0, 4], [100, 900, 1, 130], [5, 6, 1, 0], [0, 1000, 0, 8]]) {
        const before = Array.from(a.index.subarray(start, end));
        const mid = wasm.partition(start, end, feature, bin, missingLeft);
        expect(js.partition(start, end, feature, bin, missingLeft)).toBe(mid);
        expect(a.index).toEqual(b.index);
        const left = (r: number): boolean => (a.bins[feature * 1000 + r] === 0 ? missingLeft : a.bins[feature * 1000 + r] <= bin);
        expect(Array.from(a.index.subarray(start, mid))).toEqual(before.filter(left));
        expect(Array.from(a.index.subarray(mid, end))).toEqual(before.filter((r) => !left(r)));
      }
    }
  });
});
