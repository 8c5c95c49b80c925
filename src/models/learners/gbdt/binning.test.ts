import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../../test/helpers/synthetic-ctr.ts';
import { binBoundaries, binColumn, binOf, MISSING_BIN, sortValues, strideSample } from './binning.ts';

describe('GBDT binning', () => {
  it('gives each of few distinct values its own bin, and NaN the missing bin', () => {
    const upper = binBoundaries(Float64Array.of(3, 1, 2, 2, 3, 1, 1), 255);
    expect(Array.from(upper)).toEqual([1.5, 2.5]);
    expect([1, 2, 3, NaN, -100, 100].map((v) => binOf(v, upper))).toEqual([1, 2, 3, MISSING_BIN, 1, 3]);
  });

  it('places at most maxBin quantile bins, a heavy value in a bin of its own', () => {
    const rand = seededRandom(1);
    const values = Float64Array.from({ length: 50_000 }, () => (rand() < 0.4 ? 0 : Math.floor(rand() * 1e6)));
    const upper = binBoundaries(values.slice(), 16);
    expect(upper.length).toBeLessThanOrEqual(15);
    const counts = new Array(upper.length + 2).fill(0);
    for (const v of values) counts[binOf(v, upper)]++;
    expect(counts[1]).toBe(values.filter((v) => v === 0).length);
    for (let b = 2; b < counts.length; b++) expect(counts[b]).toBeGreaterThan(values.length / 16 / 2);
  });

  it('agrees with thresholds: value ≤ upper[t − 1] exactly when its bin is ≤ t (float32 values)', () => {
    const rand = seededRandom(2);
    const column = Float32Array.from({ length: 10_000 }, () => (rand() < 0.1 ? NaN : Math.fround((rand() - 0.5) * 1e4)));
    const upper = binBoundaries(strideSample(column, column.length, new Float64Array(1000)), 64);
    const bins = new Uint8Array(column.length);
    binColumn(column, column.length, upper, bins);
    let disagreements = 0;
    for (let r = 0; r < column.length; r++) {
      if (Number.isNaN(column[r])) disagreements += bins[r] === MISSING_BIN ? 0 : 1;
      else for (let t = 1; t <= upper.length; t++) disagreements += column[r] <= upper[t - 1] === bins[r] <= t ? 0 : 1;
    }
    expect(upper.length).toBeGreaterThan(50);
    expect(disagreements).toBe(0);
  });

  it('bins a column as binOf does, at the full 255 bins and past both ends', () => {
    const rand = seededRandom(3);
    const column = Float32Array.from({ length: 20_000 }, () => (rand() < 0.05 ? NaN : Math.fround((rand() - 0.5) * 1e6)));
    column.set([Infinity, -Infinity, 1e30, -1e30], 0);
    const upper = binBoundaries(strideSample(column, column.length, new Float64Array(5000)), 255);
    expect(upper.length).toBe(254);
    const bins = new Uint8Array(column.length);
    binColumn(column, column.length, upper, bins);
    expect(Array.from(bins.subarray(0, 4))).toEqual([255, 1, 255, 1]);
    expect(Array.from(bins)).toEqual(Array.from(column, (v) => binOf(v, upper)));
  });

  it('sorts values as the native sort does (negatives, ±0, ±∞, duplicates, float32 and full doubles)', () => {
    const rand = seededRandom(4);
    const special = [0, -0, Infinity, -Infinity, 1e-310, -1e-310, Number.MAX_VALUE, -Number.MAX_VALUE];
    for (const [n, draw] of [
      [5000, () => Math.fround((rand() - 0.5) * 1e3)],
      [20_000, () => (rand() - 0.5) * 1e300 * rand() ** 40],
      [9000, () => (rand() < 0.3 ? special[Math.floor(rand() * special.length)] : Math.floor(rand() * 10) - 5)],
    ] as const) {
      const values = Float64Array.from({ length: n }, draw);
      const expected = values.slice().sort();
      const sorted = sortValues(values.subarray(0));
      expect(sorted).toEqual(expected);
      expect(Array.from(sorted, (v) => Object.is(v, -0))).toEqual(Array.from(expected, (v) => Object.is(v, -0)));
    }
  });
});
