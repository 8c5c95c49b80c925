import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../../test/helpers/synthetic-ctr.ts';
import { buildHistograms, histogramLayout, subtractHistogram, type HistogramInput } from './histogram.ts';

function input(rows: number, binCounts: number[], seed: number): HistogramInput {
  const rand = seededRandom(seed);
  const bins = Uint8Array.from({ length: rows * binCounts.length }, (_, i) => Math.floor(rand() * binCounts[Math.floor(i / rows)]));
  const { offsets, size } = histogramLayout(binCounts);
  return {
    bins,
    rows,
    index: Int32Array.from({ length: rows }, (_, i) => i),
    g: Float32Array.from({ length: rows }, () => rand() - 0.5),
    h: Float32Array.from({ length: rows }, () => rand() / 4),
    hist: new Float64Array(3 * size),
    offsets,
    binCounts: Int32Array.from(binCounts),
    features: Int32Array.from(binCounts, (_, f) => f),
  };
}

describe('GBDT histograms', () => {
  it('sum gradient, hessian and count per bin of every feature (4-feature passes and the rest)', () => {
    const x = input(500, [7, 3, 256, 2, 5, 9], 1);
    const { size } = histogramLayout(x.binCounts);
    buildHistograms(x, size, 100, 400, 0, 6);
    for (let f = 0; f < 6; f++) {
      for (let b = 0; b < x.binCounts[f]; b++) {
        let [g, h, c] = [0, 0, 0];
        for (let i = 100; i < 400; i++) if (x.bins[f * 500 + x.index[i]] === b) [g, h, c] = [g + x.g[i], h + x.h[i], c + 1];
        const o = size + x.offsets[f] + 3 * b;
        expect(x.hist[o]).toBeCloseTo(g, 9);
        expect(x.hist[o + 1]).toBeCloseTo(h, 9);
        expect(x.hist[o + 2]).toBe(c);
      }
    }
  });

  it('gives the larger child by subtraction what building it directly gives', () => {
    const x = input(2000, [40, 255, 12, 3, 100], 2);
    const { size } = histogramLayout(x.binCounts);
    // Parent = all rows; children = a split of the index at position 700 (rows in any order).
    const rand = seededRandom(3);
    for (let i = x.rows - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [x.index[i], x.index[j]] = [x.index[j], x.index[i]];
    }
    buildHistograms(x, 0, 0, 2000, 0, 5);
    buildHistograms(x, size, 0, 700, 0, 5);
    subtractHistogram(x.hist, 0, size, size);
    buildHistograms(x, 2 * size, 700, 2000, 0, 5);
    for (let i = 0; i < size; i++) expect(x.hist[i]).toBeCloseTo(x.hist[2 * size + i], 9);
  });
});
