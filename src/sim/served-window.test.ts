import { describe, expect, it } from 'vitest';
import { ServedWindow } from './served-window.ts';

describe('ServedWindow', () => {
  it('keeps the last N impressions and computes served and oracle metrics over any tail of them', () => {
    const w = new ServedWindow(4);
    // Oldest two fall out: a perfect server (pCTR 0.9 on clicks) followed by a perfectly wrong one.
    w.record(0.9, 0.5, true);
    w.record(0.1, 0.5, false);
    w.record(0.2, 0.8, true);
    w.record(0.6, 0.1, false);
    w.record(0.3, 0.7, true);
    w.record(0.7, 0.2, false);
    const all = w.metrics();
    expect(all.impressions).toBe(4);
    expect(all.clicks).toBe(2);
    expect(all.servedAuc).toBe(0);
    expect(all.oracleAuc).toBe(1);
    expect(all.meanPctr).toBeCloseTo(0.45, 12);
    expect(all.calibration).toBeCloseTo(0.45 / 0.5, 12);
    expect(all.servedLogloss).toBeGreaterThan(all.oracleLogloss);
    const last2 = w.metrics(2);
    expect(last2.impressions).toBe(2);
    expect(last2.meanPctr).toBeCloseTo(0.5, 12);
    expect(last2.meanOracle).toBeCloseTo(0.45, 12);
  });

  it('is undefined rather than wrong while it holds one class or nothing', () => {
    const w = new ServedWindow(10);
    expect(w.metrics().impressions).toBe(0);
    expect(w.metrics().ctr).toBeNaN();
    w.record(0.1, 0.1, false);
    w.record(0.2, 0.1, false);
    const m = w.metrics();
    expect(m.servedAuc).toBeNaN();
    expect(m.calibration).toBeNaN();
    expect(m.servedLogloss).toBeCloseTo(-(Math.log(0.9) + Math.log(0.8)) / 2, 12);
  });
});
