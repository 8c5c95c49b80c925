import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../../test/helpers/synthetic-ctr.ts';
import { assignFolds, CategoryLookup, fitCategoryField, KeyIndex } from './categorical.ts';

function fit(values: number[], labels: number[], folds: Uint8Array, minCount = 1) {
  const n = values.length;
  const out = { count: new Float32Array(n), ctr: new Float32Array(n) };
  const opts = { minCount, smoothing: 2, folds: 3, prior: 0.25 };
  const table = fitCategoryField(Int32Array.from(values), Uint8Array.from(labels), n, folds, opts, new KeyIndex(n), out);
  return { table, out };
}

describe('GBDT categorical statistics', () => {
  it('gives training rows out-of-fold click rates: a row never sees its own label', () => {
    const rand = seededRandom(5);
    const n = 3000;
    const values = Array.from({ length: n }, () => Math.floor(rand() * 30) - 10);
    const labels: number[] = Array.from({ length: n }, () => (rand() < 0.3 ? 1 : 0));
    const folds = assignFolds(n, 3, 1);
    const before = fit(values, labels, folds).out.ctr;
    for (const r of [0, 17, 2999]) {
      const flipped = labels.slice();
      flipped[r] = 1 - flipped[r];
      const after = fit(values, flipped, folds).out.ctr;
      expect(after[r]).toBe(before[r]);
      // Rows of the same value in other folds do see it.
      const other = values.findIndex((v, i) => v === values[r] && folds[i] !== folds[r]);
      expect(after[other]).not.toBe(before[other]);
    }
  });

  it('serves whole-slice statistics, pooling rare and unseen values', () => {
    const values = [7, 7, 7, 7, 9, 9, 9, 5, 6];
    const labels = [1, 0, 0, 0, 1, 1, 0, 1, 0];
    const { table } = fit(values, labels, new Uint8Array(9), 3);
    expect(Array.from(table.keys)).toEqual([7, 9]);
    expect(Array.from(table.count)).toEqual([4, 3]);
    // (clicks + 2·0.25) / (count + 2), the two rare rows (5, 6) pooled: (1 + 0.5) / (2 + 2).
    expect(Array.from(table.ctr)).toEqual([Math.fround(1.5 / 6), Math.fround(2.5 / 5)]);
    expect(table.unseenCtr).toBe(Math.fround(1.5 / 4));
    const out = new Float32Array(8);
    new CategoryLookup(table).write(Int32Array.of(9, 5, 12345, 0), 4, out, 0, 2);
    expect(Array.from(out)).toEqual([3, Math.fround(2.5 / 5), 0, Math.fround(1.5 / 4), 0, Math.fround(1.5 / 4), 0, Math.fround(1.5 / 4)]);
  });
});
