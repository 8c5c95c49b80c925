import { describe, expect, it } from 'vitest';
import { OnlineEvaluator } from './online-evaluator.ts';

describe('OnlineEvaluator', () => {
  it('CTR = clicks ÷ impressions and calibration = Σ pCTR ÷ clicks over impressions of the window, per version', () => {
    const ev = new OnlineEvaluator({ bucketMs: 60_000, historyMs: 3_600_000, recentExamples: 100 });
    const t0 = 1_700_000_000_000;
    for (let i = 0; i < 100; i++) {
      ev.addImpression('m@1', t0 + i * 1000, 0.05, i % 2);
      ev.addImpression('m@2', t0 + i * 1000, 0.2, 0);
    }
    // Labels arrive later but count at their impression's time.
    for (let i = 0; i < 100; i++) ev.addExample('m@1', t0 + i * 1000, 0.05, i < 4 ? 1 : 0);
    const w = ev.window('m@1', t0 - 60_000, t0 + 3_600_000);
    expect(w).toMatchObject({ impressions: 100, requests: 50, clicks: 4, examples: 100 });
    expect(w.ctr).toBeCloseTo(0.04, 12);
    expect(w.meanPctr).toBeCloseTo(0.05, 12);
    expect(w.calibration).toBeCloseTo(1.25, 12);
    const w2 = ev.window('m@2', t0 - 60_000, t0 + 3_600_000);
    expect(w2.ctr).toBe(0);
    expect(w2.calibration).toBeNull();
    // Only the bucket holding t0: impressions of its remaining 40 seconds.
    const b0 = Math.floor(t0 / 60_000) * 60_000;
    expect(t0 - b0).toBe(20_000);
    expect(ev.window('m@1', b0, b0 + 1).impressions).toBe(40);
    expect(ev.versions()).toEqual(['m@1', 'm@2']);
  });

  it('logloss and AUC over the last N examples of a version (a ring)', () => {
    const ev = new OnlineEvaluator({ bucketMs: 60_000, historyMs: 600_000, recentExamples: 4 });
    // Perfectly ranked first, then overwritten by perfectly mis-ranked examples.
    ev.addExample('v', 0, 0.9, 1);
    ev.addExample('v', 0, 0.1, 0);
    expect(ev.recent('v').auc).toBe(1);
    for (let i = 0; i < 2; i++) {
      ev.addExample('v', 0, 0.9, 0);
      ev.addExample('v', 0, 0.1, 1);
    }
    const r = ev.recent('v');
    expect(r).toMatchObject({ examples: 4, positives: 2, auc: 0 });
    expect(r.logloss).toBeCloseTo(-Math.log(0.1), 6);
    expect(ev.recent('unknown')).toEqual({ examples: 0, positives: 0, logloss: null, auc: null });
  });

  it('forgets versions quiet since a time, but those it is told to keep', () => {
    const ev = new OnlineEvaluator({ bucketMs: 60_000, historyMs: 600_000, recentExamples: 10 });
    ev.addImpression('a@1', 1000, 0.1, 0);
    ev.addImpression('a@2', 1000, 0.1, 0);
    ev.addExample('a@3', 5000, 0.1, 0);
    expect(ev.prune(2000, new Set(['a@2']))).toEqual(['a@1']);
    expect(ev.versions()).toEqual(['a@2', 'a@3']);
    expect(ev.totals('a@1').impressions).toBe(0);
  });
});
