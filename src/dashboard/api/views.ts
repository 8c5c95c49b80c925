/**
 * The views read straight from the monitor's state: traffic and CTR over time per model version,
 * the A/B comparison, features (freshness and drift), the join and alerts. Pure functions of the
 * monitor, so each is as cheap as summing a few hundred buckets.
 */
import { rateDiffInterval, wilson, type Monitor } from '../../monitoring/index.ts';
import type { AbResponse, AbVersion, AlertsResponse, FeaturesResponse, JoinResponse, TrafficResponse, TrafficSeries } from './types.ts';

const ratio = (a: number, b: number): number | null => (b > 0 ? a / b : null);

/** [from, to) bucket starts covering the last `minutes` up to the bucket holding now. */
function range(monitor: Monitor, widthMs: number, minutes: number): { from: number; to: number } | null {
  const now = monitor.now();
  if (now === null) return null;
  const to = Math.floor(now / widthMs) * widthMs + widthMs;
  return { from: to - Math.max(1, Math.ceil((minutes * 60_000) / widthMs)) * widthMs, to };
}

export function traffic(monitor: Monitor, minutes: number): TrafficResponse {
  const step = monitor.settings.bucketMs;
  const r = range(monitor, step, minutes);
  if (r === null) return { step_ms: step, series: [] };
  const series: TrafficSeries[] = [];
  for (const version of monitor.evaluator.versions()) {
    const s = monitor.evaluator.series(version, r.from, r.to);
    if (!s.impressions.some((x) => x > 0)) continue;
    series.push({
      version,
      ts: s.ts,
      requests: s.requests,
      impressions: s.impressions,
      clicks: s.clicks,
      ctr: s.clicks.map((c, i) => ratio(c, s.impressions[i])),
      mean_pctr: s.predicted.map((p, i) => ratio(p, s.impressions[i])),
      calibration: s.predicted.map((p, i) => ratio(p, s.clicks[i])),
    });
  }
  return { step_ms: step, series };
}

export function ab(monitor: Monitor): AbResponse {
  const reg = monitor.state.registry;
  const name = monitor.config.registry.modelName;
  const aliasOf = (version: string): string | undefined => {
    if (reg?.champion && version === `${name}@${reg.champion.version}`) return 'champion';
    if (reg?.challenger && version === `${name}@${reg.challenger.version}`) return 'challenger';
    if (version === `${name}@prior`) return 'prior';
    return undefined;
  };
  const versions: AbVersion[] = [];
  for (const version of monitor.evaluator.versions()) {
    const w = monitor.windowOf(version);
    if (w.impressions === 0) continue;
    const recent = monitor.evaluator.recent(version);
    const alias = aliasOf(version);
    versions.push({
      version,
      ...(alias ? { alias } : {}),
      impressions: w.impressions,
      clicks: w.clicks,
      ctr: w.ctr,
      ctr_ci: wilson(w.clicks, w.impressions),
      mean_pctr: w.meanPctr,
      calibration: w.calibration,
      logloss: recent.logloss,
      auc: recent.auc,
      examples: recent.examples,
    });
  }
  versions.sort((x, y) => y.impressions - x.impressions);
  const a = versions.find((v) => v.alias === 'champion') ?? versions[0];
  const b = versions.find((v) => v.alias === 'challenger' && v !== a) ?? versions.find((v) => v !== a);
  const base: AbResponse = { window_s: monitor.settings.windowMs / 1000, versions };
  if (a === undefined || b === undefined) return base;
  const d = rateDiffInterval(a.clicks, a.impressions, b.clicks, b.impressions);
  return { ...base, diff: { a: a.version, b: b.version, ctr_diff: d.diff, ci: d.ci, significant: d.ci[0] > 0 || d.ci[1] < 0 } };
}

export function features(monitor: Monitor): FeaturesResponse {
  const report = monitor.driftReport();
  return {
    freshness: monitor.freshness().map((f) => ({ entity: f.entity, age_s: f.ageMs === null ? null : f.ageMs / 1000 })),
    drift: report.features.map((f) => ({ feature: f.feature, kind: f.kind, psi: f.psi, threshold: f.threshold, status: f.status })),
    pctr_psi: report.pctr.psi,
    pctr_threshold: report.pctr.threshold,
    reference: report.reference,
    window_s: report.windowMs / 1000,
    window_rows: report.rows,
  };
}

export function join(monitor: Monitor, minutes: number): JoinResponse {
  const j = monitor.join();
  const step = monitor.settings.bucketMs;
  const r = range(monitor, step, minutes);
  const empty = { ts: [], lag_s: [], late: [], unknown: [], positives: [], negatives: [] };
  return {
    lag_s: j.lagMs === null ? null : j.lagMs / 1000,
    backlog: j.backlog,
    totals: j.totals,
    step_ms: step,
    series: r === null ? empty : monitor.joinView.series(r.from, r.to),
  };
}

export function alerts(monitor: Monitor): AlertsResponse {
  return { active: monitor.alerts.active(), recent: monitor.alerts.recent() };
}
