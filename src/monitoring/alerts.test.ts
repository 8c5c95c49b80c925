import { describe, expect, it } from 'vitest';
import { Alerts, type Alert, type AlertCheck } from './alerts.ts';

const check = (firing: boolean | null, value = 0.3, subject = 'ctx_device'): AlertCheck => ({ rule: 'drift', subject, firing, value, threshold: 0.2, message: `${subject} drifted` });

describe('Alerts', () => {
  it('fires at once, resolves only after the condition is gone for resolveAfter evaluations, and reports both', () => {
    const changes: [string, Alert][] = [];
    const alerts = new Alerts({ resolveAfter: 2, onChange: (c, a) => changes.push([c, a]) });
    alerts.update(['drift'], [check(false, 0.01)], 1000);
    expect(alerts.active()).toEqual([]);
    alerts.update(['drift'], [check(true, 0.31)], 2000);
    expect(alerts.active()).toMatchObject([{ id: 'drift:ctx_device', rule: 'drift', severity: 'warn', box: 'feature_store', since: 2000, value: 0.31 }]);
    alerts.update(['drift'], [check(true, 0.4)], 3000);
    expect(alerts.active()[0]).toMatchObject({ since: 2000, value: 0.4 });
    alerts.update(['drift'], [check(false, 0.1)], 4000);
    alerts.update(['drift'], [check(true, 0.3)], 5000);
    alerts.update(['drift'], [check(false, 0.1)], 6000);
    expect(alerts.active()).toHaveLength(1);
    alerts.update(['drift'], [check(false, 0.05)], 7000);
    expect(alerts.active()).toEqual([]);
    expect(alerts.recent()[0]).toMatchObject({ id: 'drift:ctx_device', since: 2000, resolvedAt: 7000, value: 0.05 });
    expect(changes.map(([c]) => c)).toEqual(['fired', 'resolved']);
    expect(alerts.fired.get('drift')).toBe(1);
  });

  it('keeps state when a check cannot be judged, and clears subjects an evaluated rule no longer reports', () => {
    const alerts = new Alerts({ resolveAfter: 1 });
    alerts.update(['drift'], [check(true, 0.3, 'a'), check(true, 0.3, 'b')], 1);
    alerts.update(['drift'], [check(null, 0, 'a'), check(true, 0.3, 'b')], 2);
    expect(alerts.active().map((a) => a.id)).toEqual(['drift:a', 'drift:b']);
    // A rule not evaluated this time leaves its alerts alone.
    alerts.update(['calibration'], [], 3);
    expect(alerts.active()).toHaveLength(2);
    alerts.update(['drift'], [check(true, 0.3, 'b')], 4);
    expect(alerts.active().map((a) => a.id)).toEqual(['drift:b']);
  });

  it('lists alert-severity alerts before warnings', () => {
    const alerts = new Alerts();
    alerts.update(['drift'], [check(true)], 1);
    alerts.update(['join_lag'], [{ rule: 'join_lag', subject: '', firing: true, value: 300, threshold: 120, message: 'lag' }], 2);
    expect(alerts.active().map((a) => [a.id, a.severity])).toEqual([
      ['join_lag', 'alert'],
      ['drift:ctx_device', 'warn'],
    ]);
  });
});
