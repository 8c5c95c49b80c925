/**
 * The final summary of a `pctr start` run, for the screen and for `--summary-json`: totals
 * (impressions, clicks), the served-vs-oracle rates over the last window of impressions, models
 * promoted during the run (from the registry's alias history, so batch and continuous promotions
 * both count), and what each part did. Keys are snake_case; undefined rates are null.
 */
import { isPctrError } from '../core/index.ts';
import type { Registry } from '../registry/index.ts';
import type { SystemStatus } from './embedded-system.ts';
import type { TrafficReport } from './sim-traffic.ts';

export interface RunSummary {
  readonly impressions: number;
  readonly clicks: number;
  readonly served_auc: number | null;
  readonly oracle_auc: number | null;
  readonly served_logloss: number | null;
  readonly oracle_logloss: number | null;
  readonly calibration: number | null;
  readonly versions_promoted: number;
  readonly window_impressions: number;
  readonly window_clicks: number;
  readonly window_ctr: number | null;
  readonly mean_pctr: number | null;
  readonly requests: number;
  readonly failures: number;
  readonly statuses: Readonly<Record<string, number>>;
  readonly requests_per_sec: number;
  readonly latency_p99_ms: number | null;
  readonly wall_seconds: number;
  readonly event_start: string;
  readonly event_end: string;
  /** `name@version` serving at the end, and whether it is a registered version (not the prior). */
  readonly model_version: string;
  readonly served_model_registered: boolean;
  readonly versions_registered: number;
  readonly impressions_by_version: Readonly<Record<string, number>>;
  readonly join: { readonly positives: number; readonly negatives: number; readonly late_clicks: number; readonly unknown_clicks: number; readonly duplicate_clicks: number } | null;
  readonly learner: { readonly examples: number; readonly decisions: number; readonly published: number } | null;
  readonly pipeline: { readonly runs: number; readonly succeeded: number; readonly promoted: number } | null;
  readonly impressions_dropped: number;
}

export interface SummaryInput {
  readonly traffic: TrafficReport | null;
  readonly status: SystemStatus;
  readonly registry: Registry;
  readonly modelName: string;
  /** Wall time the run started (alias moves since then count as promotions of this run). */
  readonly startedAt: Date;
  readonly wallSeconds: number;
  readonly eventStart: number;
  readonly eventEnd: number;
}

const rate = (x: number | undefined): number | null => (x === undefined || !Number.isFinite(x) ? null : x);

export async function buildSummary(i: SummaryInput): Promise<RunSummary> {
  const since = i.startedAt.getTime();
  // A model with no version registered yet has neither history nor versions.
  const none = (e: unknown) => (isPctrError(e, 'PCTR_UNKNOWN_MODEL') ? [] : Promise.reject(e));
  const history = await i.registry.aliasHistory(i.modelName, 'champion').catch(none);
  const promoted = history.filter((e) => e.action === 'set' && Date.parse(e.at) >= since).length;
  const versions = await i.registry.list(i.modelName).catch(none);
  const served = /@(\d+)$/.exec(i.status.model);
  const t = i.traffic;
  const w = t?.window;
  const s = i.status;
  return {
    impressions: t?.stats.impressions ?? s.impressionsLogged,
    clicks: t?.stats.clicks ?? 0,
    served_auc: rate(w?.servedAuc),
    oracle_auc: rate(w?.oracleAuc),
    served_logloss: rate(w?.servedLogloss),
    oracle_logloss: rate(w?.oracleLogloss),
    calibration: rate(w?.calibration),
    versions_promoted: promoted,
    window_impressions: w?.impressions ?? 0,
    window_clicks: w?.clicks ?? 0,
    window_ctr: rate(w?.ctr),
    mean_pctr: rate(w?.meanPctr),
    requests: t?.stats.requests ?? 0,
    failures: t?.stats.failures ?? 0,
    statuses: t?.stats.statuses ?? {},
    requests_per_sec: i.wallSeconds > 0 ? (t?.stats.requests ?? 0) / i.wallSeconds : 0,
    latency_p99_ms: rate(t?.stats.latencyP99Ms),
    wall_seconds: i.wallSeconds,
    event_start: new Date(i.eventStart).toISOString(),
    event_end: new Date(i.eventEnd).toISOString(),
    model_version: s.model,
    served_model_registered: served !== null && versions.some((v) => v.version === Number(served[1])),
    versions_registered: versions.length,
    impressions_by_version: t?.stats.versions ?? {},
    join: s.join
      ? { positives: s.join.positives, negatives: s.join.negatives, late_clicks: s.join.lateClicks, unknown_clicks: s.join.unknownClicks, duplicate_clicks: s.join.duplicateClicks }
      : null,
    learner: s.learner ? { examples: s.learner.examples, decisions: s.learner.decisions, published: s.learner.published } : null,
    pipeline: s.pipeline ? { runs: s.pipeline.runs, succeeded: s.pipeline.succeeded, promoted: s.pipeline.promoted } : null,
    impressions_dropped: s.impressionsDropped,
  };
}

const f4 = (x: number | null): string => (x === null ? '-' : x.toFixed(4));

/** The summary as a few lines for the terminal. */
export function summaryText(s: RunSummary): string {
  return [
    `pctr start: ${s.impressions} impressions, ${s.clicks} clicks in ${s.wall_seconds.toFixed(1)} s (${s.requests_per_sec.toFixed(0)} req/s), event time ${s.event_start} → ${s.event_end}`,
    `  last ${s.window_impressions} impressions: AUC served ${f4(s.served_auc)} vs oracle ${f4(s.oracle_auc)}, logloss ${f4(s.served_logloss)} vs ${f4(s.oracle_logloss)}, calibration ${f4(s.calibration)}`,
    `  models: serving ${s.model_version}; ${s.versions_promoted} promoted, ${s.versions_registered} registered` +
      (s.learner ? `; learner ${s.learner.examples} examples, ${s.learner.published} published` : '') +
      (s.pipeline ? `; pipeline ${s.pipeline.runs} runs, ${s.pipeline.promoted} promoted` : ''),
  ].join('\n');
}
