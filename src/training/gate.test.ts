import { describe, expect, it } from 'vitest';
import { GateConfig, baseRateReference, decideGate, type GateReference } from './gate.ts';

const champion: GateReference = { kind: 'champion', label: 'champion v3', version: 3, auc: 0.7, logloss: 0.4 };
const gate = GateConfig.parse({ minAucGain: 0.002, maxLoglossRatio: 1 });

describe('promotion gate', () => {
  it('promotes a challenger better on both AUC and logloss, naming the numbers', () => {
    const d = decideGate({ auc: 0.705, logloss: 0.39 }, champion, gate);
    expect(d).toMatchObject({ promote: true, against: 'champion', championVersion: 3 });
    expect(d.reason).toBe('beats champion v3: AUC 0.7050 ≥ 0.7000 + 0.002, logloss 0.3900 ≤ 0.4000 × 1');
  });

  it('keeps the champion when AUC does not clear the margin, or logloss is worse, listing every failure', () => {
    expect(decideGate({ auc: 0.701, logloss: 0.39 }, champion, gate).reason).toBe('kept champion v3: AUC 0.7010 < champion v3\'s 0.7000 + 0.002');
    const both = decideGate({ auc: 0.65, logloss: 0.45 }, champion, gate);
    expect(both.promote).toBe(false);
    expect(both.reason).toBe("kept champion v3: AUC 0.6500 < champion v3's 0.7000 + 0.002; logloss 0.4500 > champion v3's 0.4000 × 1");
  });

  it('refuses undefined metrics', () => {
    const d = decideGate({ auc: NaN, logloss: 0.3 }, champion, gate);
    expect(d.promote).toBe(false);
    expect(d.reason).toMatch(/undefined \(AUC NaN/);
  });

  it('compares with the base-rate predictor when there is no champion', () => {
    const base = baseRateReference(0.1, 10, 100);
    expect(base.logloss).toBeCloseTo(-(0.1 * Math.log(0.1) + 0.9 * Math.log(0.9)), 12);
    expect(decideGate({ auc: 0.6, logloss: 0.3 }, base, GateConfig.parse({}))).toMatchObject({ promote: true, against: 'baseline', championVersion: null });
    expect(decideGate({ auc: 0.6, logloss: 0.4 }, base, GateConfig.parse({})).reason).toMatch(/^kept the base rate 0.1000: logloss 0.4000 > /);
  });
});
