import { describe, expect, it } from 'vitest';
import { alignSeries, countPoints, sortedByX } from './chart-data.ts';

describe('chart data shaping', () => {
  it('merges series onto the sorted union of their x values with gaps as null', () => {
    const { x, ys } = alignSeries([
      { x: [3, 1], y: [30, 10] },
      { x: [2, 3], y: [0.2, NaN] },
    ]);
    expect(x).toEqual([1, 2, 3]);
    expect(ys).toEqual([
      [10, null, 30],
      [null, 0.2, null],
    ]);
    expect(countPoints(ys)).toBe(3);
  });

  it('sorts one series by x and drops points that are not numbers', () => {
    expect(sortedByX([0.5, 0.1, NaN, 0.3], [5, 1, 9, NaN])).toEqual({ x: [0.1, 0.5], y: [1, 5] });
  });
});
