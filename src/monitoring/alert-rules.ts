/**
 * The alert rules: from the monitor's figures to checks (condition holds / does not / cannot be
 * judged). Thresholds come from config `monitoring.*`. A rule whose input this monitor does not
 * have (no gateway in the process: no degraded mode; no run store: no training runs) is not
 * evaluated at all, so its alerts neither fire nor resolve here.
 */
import type { Config } from '../core/index.ts';
import type { RunRecord } from '../training/index.ts';
import type { AlertCheck, AlertRule } from './alerts.ts';
import type { DriftReport } from './drift.ts';
import type { WindowFigures } from './online-evaluator.ts';

export interface RuleInputs {
  readonly settings: Config['monitoring'];
  /** Each version serving in the window, its figures, and (champion only) the hour before. */
  readonly versions: readonly { readonly version: string; readonly window: WindowFigures; readonly before?: WindowFigures }[];
  readonly joinLagMs: number | null;
  readonly drift: DriftReport | null;
  /** Whether the gateway serves default features; undefined without a gateway in this process. */
  readonly degraded?: boolean;
  /** Latest pipeline runs, newest first; undefined without a run store. */
  readonly runs?: readonly RunRecord[];
}

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;

export function alertChecks(input: RuleInputs): { rules: AlertRule[]; checks: AlertCheck[] } {
  const s = input.settings;
  const rules: AlertRule[] = ['calibration', 'ctr_drop', 'join_lag'];
  const checks: AlertCheck[] = [];
  for (const v of input.versions) {
    const w = v.window;
    const cal = w.calibration;
    const judged = w.clicks >= s.minClicks && cal !== null;
    checks.push({
      rule: 'calibration',
      subject: v.version,
      firing: judged ? cal < s.calibrationMin || cal > s.calibrationMax : null,
      value: cal ?? 0,
      threshold: cal !== null && cal < s.calibrationMin ? s.calibrationMin : s.calibrationMax,
      message: `${v.version} calibration ${cal?.toFixed(3) ?? 'n/a'} (mean pCTR ÷ CTR) is outside [${s.calibrationMin}, ${s.calibrationMax}] over ${w.clicks} clicks`,
    });
    const b = v.before;
    if (b === undefined) continue;
    // Judge only when the window should hold enough clicks at the earlier rate.
    const expected = b.ctr === null ? 0 : w.impressions * b.ctr;
    const ok = b.clicks >= s.minClicks && expected >= s.minClicks && w.ctr !== null && b.ctr !== null && b.ctr > 0;
    const drop = ok ? 1 - w.ctr! / b.ctr! : 0;
    checks.push({
      rule: 'ctr_drop',
      subject: v.version,
      firing: ok ? drop >= s.ctrDrop : null,
      value: drop,
      threshold: s.ctrDrop,
      message: `${v.version} CTR ${w.ctr === null ? 'n/a' : pct(w.ctr)} is ${pct(drop)} below the hour before (${b.ctr === null ? 'n/a' : pct(b.ctr)})`,
    });
  }
  const lag = input.joinLagMs;
  checks.push({
    rule: 'join_lag',
    subject: '',
    firing: lag === null ? null : lag > s.joinLagMs,
    value: (lag ?? 0) / 1000,
    threshold: s.joinLagMs / 1000,
    message: `join watermark trails the newest impression by ${((lag ?? 0) / 1000).toFixed(0)} s (event time)`,
  });
  if (input.drift !== null) {
    rules.push('drift', 'pctr_drift');
    for (const f of input.drift.features) {
      checks.push({
        rule: 'drift',
        subject: f.feature,
        firing: f.psi === null ? null : f.psi > f.threshold,
        value: f.psi ?? 0,
        threshold: f.threshold,
        message: `feature ${f.feature} drifted: PSI ${f.psi?.toFixed(3) ?? 'n/a'} vs the champion's training data (threshold ${f.threshold})`,
      });
    }
    const p = input.drift.pctr;
    checks.push({
      rule: 'pctr_drift',
      subject: '',
      firing: p.psi === null ? null : p.psi > p.threshold,
      value: p.psi ?? 0,
      threshold: p.threshold,
      message: `served pCTR of ${p.version ?? 'the champion'} drifted: PSI ${p.psi?.toFixed(3) ?? 'n/a'} vs its first predictions (threshold ${p.threshold})`,
    });
  }
  if (input.degraded !== undefined) {
    rules.push('degraded');
    checks.push({
      rule: 'degraded',
      subject: '',
      firing: input.degraded,
      value: input.degraded ? 1 : 0,
      threshold: 1,
      message: 'the online feature store is failing: requests are served with default features',
    });
  }
  if (input.runs !== undefined) {
    rules.push('training_failed');
    const latest = new Map<string, RunRecord>();
    for (const run of input.runs) if ((run.status === 'succeeded' || run.status === 'failed') && !latest.has(run.pipeline)) latest.set(run.pipeline, run);
    for (const [pipeline, run] of latest) {
      checks.push({
        rule: 'training_failed',
        subject: pipeline,
        firing: run.status === 'failed',
        value: run.status === 'failed' ? 1 : 0,
        threshold: 1,
        message: `training run ${run.id} (${pipeline}) failed${run.error ? `: ${run.error.message}` : ''}`,
      });
    }
  }
  return { rules, checks };
}
