import { describe, expect, it } from 'vitest';
import { auc } from '../models/index.ts';
import { rateDiffInterval, rocCurve, wilson } from './curves.ts';

describe('rocCurve', () => {
  it('goes from (0,0) to (1,1) with a point per distinct score; its area is the AUC (ties as half)', () => {
    const scores = Float32Array.from([0.9, 0.8, 0.8, 0.3, 0.2, 0.1]);
    const labels = Uint8Array.from([1, 1, 0, 1, 0, 0]);
    const roc = rocCurve(scores, labels);
    expect(roc.fpr).toEqual([0, 0, 1 / 3, 1 / 3, 2 / 3, 1]);
    expect(roc.tpr).toEqual([0, 1 / 3, 2 / 3, 1, 1, 1]);
    let area = 0;
    for (let i = 1; i < roc.fpr.length; i++) area += ((roc.fpr[i] - roc.fpr[i - 1]) * (roc.tpr[i] + roc.tpr[i - 1])) / 2;
    expect(area).toBeCloseTo(auc(scores, labels), 12);
  });

  it('thins long curves to maxPoints, keeping both ends; one class gives no curve', () => {
    const n = 5000;
    const scores = Float32Array.from({ length: n }, (_, i) => i / n);
    const labels = Uint8Array.from({ length: n }, (_, i) => i % 3 === 0 ? 1 : 0);
    const roc = rocCurve(scores, labels, n, 50);
    expect(roc.fpr).toHaveLength(50);
    expect([roc.fpr[0], roc.tpr[0], roc.fpr[49], roc.tpr[49]]).toEqual([0, 0, 1, 1]);
    expect(rocCurve(scores, new Uint8Array(n))).toEqual({ fpr: [], tpr: [] });
  });
});

describe('intervals', () => {
  it('Wilson interval holds the rate and narrows with more trials', () => {
    const [lo, hi] = wilson(30, 1000);
    expect(lo).toBeLessThan(0.03);
    expect(hi).toBeGreaterThan(0.03);
    const [lo2, hi2] = wilson(300, 10_000);
    expect(hi2 - lo2).toBeLessThan(hi - lo);
    expect(wilson(0, 0)).toEqual([0, 0]);
    expect(wilson(0, 100)[0]).toBe(0);
  });

  it('a difference of rates excludes 0 only when it is clear', () => {
    expect(rateDiffInterval(300, 10_000, 450, 10_000).ci[0]).toBeGreaterThan(0);
    const same = rateDiffInterval(30, 1000, 32, 1000);
    expect(same.ci[0]).toBeLessThan(0);
    expect(same.ci[1]).toBeGreaterThan(0);
    expect(same.diff).toBeCloseTo(0.002, 12);
  });
});
