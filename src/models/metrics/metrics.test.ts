import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../test/helpers/synthetic-ctr.ts';
import { auc, entropy, evaluate, evaluateBySegment, logloss, reliability } from './metrics.ts';
import { ProgressiveValidator } from './progressive.ts';

const f64 = (xs: number[]) => Float64Array.from(xs);
const u8 = (xs: number[]) => Uint8Array.from(xs);

/** O(n²) definition: share of (positive, negative) pairs ordered correctly, ties counting half. */
function pairwiseAuc(s: ArrayLike<number>, y: ArrayLike<number>): number {
  let wins = 0;
  let pairs = 0;
  for (let i = 0; i < s.length; i++) {
    if (!y[i]) continue;
    for (let j = 0; j < s.length; j++) {
      if (y[j]) continue;
      pairs++;
      wins += s[i] > s[j] ? 1 : s[i] === s[j] ? 0.5 : 0;
    }
  }
  return wins / pairs;
}

describe('auc', () => {
  it('is exact on hand-computed vectors, ties counting half', () => {
    // positives 0.35, 0.8, 0.4 against negatives 0.1, 0.4: 1+0 + 1+1 + 1+0.5 = 4.5 of 6 pairs
    expect(auc(f64([0.1, 0.4, 0.35, 0.8, 0.4]), u8([0, 0, 1, 1, 1]))).toBe(0.75);
    expect(auc(f64([0.3, 0.3, 0.3, 0.3]), u8([0, 1, 0, 1]))).toBe(0.5);
    expect(auc(f64([0.1, 0.2, 0.8, 0.9]), u8([0, 0, 1, 1]))).toBe(1);
    expect(auc(f64([0.9, 0.8, 0.2, 0.1]), u8([0, 0, 1, 1]))).toBe(0);
    // positives 0.5, 0.2 against negatives 0.5, 0.2, 0.7: (0.5 + 1 + 0) + (0 + 0.5 + 0) = 2 of 6 pairs
    expect(auc(f64([0.5, 0.2, 0.5, 0.2, 0.7]), u8([1, 1, 0, 0, 0]))).toBe(2 / 6);
  });

  it('agrees with the pairwise definition on random scores with many ties', () => {
    const rand = seededRandom(7);
    for (let trial = 0; trial < 20; trial++) {
      const n = 50 + trial * 7;
      const s = Float32Array.from({ length: n }, () => Math.round(rand() * 10) / 10);
      const y = Uint8Array.from({ length: n }, (_, i) => (rand() < 0.3 + 0.4 * s[i] || i === 0 ? 1 : 0));
      y[1] = 0;
      expect(auc(s, y)).toBeCloseTo(pairwiseAuc(s, y), 12);
    }
  });

  it('is NaN with one class and honours n', () => {
    expect(auc(f64([0.1, 0.2]), u8([1, 1]))).toBeNaN();
    expect(auc(f64([0.1, 0.9, 0.5]), u8([0, 1, 1]), 2)).toBe(1);
  });
});

describe('logloss, entropy and evaluate', () => {
  it('computes logloss exactly, clamping certain mistakes at 1e-15', () => {
    expect(logloss(f64([0.9, 0.2]), u8([1, 0]))).toBeCloseTo((-Math.log(0.9) - Math.log(0.8)) / 2, 14);
    expect(logloss(f64([0, 1]), u8([1, 0]))).toBe((-Math.log(1e-15) - Math.log(1 - (1 - 1e-15))) / 2);
  });

  it('normalizes by the entropy of the observed click rate and reports calibration', () => {
    const s = f64([0.5, 0.5, 0.5, 0.5]);
    const y = u8([1, 0, 0, 0]);
    const m = evaluate(s, y);
    expect(entropy(0.25)).toBeCloseTo(-(0.25 * Math.log(0.25) + 0.75 * Math.log(0.75)), 14);
    expect(m.n).toBe(4);
    expect(m.positives).toBe(1);
    expect(m.logloss).toBeCloseTo(Math.log(2), 14);
    expect(m.ne).toBeCloseTo(Math.log(2) / entropy(0.25), 12);
    expect(m.calibration).toBeCloseTo(2, 14);
    expect(m.auc).toBe(0.5);
    // Predicting the base rate scores NE = 1.
    expect(evaluate(f64([0.25, 0.25, 0.25, 0.25]), y).ne).toBeCloseTo(1, 12);
  });

  it('buckets predictions into equal-count reliability buckets', () => {
    const buckets = reliability(f64([0.4, 0.1, 0.3, 0.2]), u8([1, 0, 1, 0]), 2);
    expect(buckets).toEqual([
      { lo: 0.1, hi: 0.2, count: 2, meanPredicted: expect.closeTo(0.15, 12), observedRate: 0 },
      { lo: 0.3, hi: 0.4, count: 2, meanPredicted: expect.closeTo(0.35, 12), observedRate: 1 },
    ]);
    expect(reliability(f64([]), u8([]))).toEqual([]);
  });

  it('evaluates each segment on its own rows', () => {
    const s = f64([0.9, 0.1, 0.8, 0.3, 0.6, 0.7]);
    const y = u8([1, 0, 0, 1, 1, 1]);
    const seg = Int32Array.from([1, 1, 2, 2, 3, 3]);
    const bySeg = evaluateBySegment(s, y, seg);
    expect([...bySeg.keys()].sort()).toEqual([1, 2, 3]);
    expect(bySeg.get(1)!.auc).toBe(1);
    expect(bySeg.get(2)!.auc).toBe(0);
    expect(bySeg.get(3)!.auc).toBeNaN();
    expect(bySeg.get(3)!.logloss).toBeCloseTo((-Math.log(0.6) - Math.log(0.7)) / 2, 14);
  });
});

describe('ProgressiveValidator', () => {
  it('keeps sliding-window metrics and a running logloss', () => {
    const v = new ProgressiveValidator(4);
    v.observe(f64([0.9, 0.1]), u8([1, 0]));
    expect(v.windowMetrics().auc).toBe(1);
    v.observe(f64([0.9, 0.1, 0.2, 0.8]), u8([0, 1, 1, 0]));
    expect(v.count).toBe(6);
    // Only the last four (all ordered wrongly) remain in the window.
    expect(v.windowMetrics().n).toBe(4);
    expect(v.windowMetrics().auc).toBe(0);
    const all = (2 * -Math.log(0.9) + 2 * -Math.log(0.1) + 2 * -Math.log(0.2)) / 6;
    expect(v.cumulativeLogloss).toBeCloseTo(all, 12);
  });
});
