/**
 * The monitor's Prometheus metrics (conventional names: `_total` counters, `_seconds` units,
 * `model_version` labels as `name@version`). Figures the monitor already keeps are exposed through
 * collect callbacks that read them at scrape time, so nothing is counted twice; events it only
 * sees happen (training runs finishing, webhook deliveries) are counted as they come. Everything
 * lives on the registry it is given: the gateway's own, so one /metrics shows serving and
 * monitoring together.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { JoinStats } from '../join/index.ts';
import type { ContinuousStats } from '../training/index.ts';
import type { Alert, AlertRule } from './alerts.ts';
import type { DriftReport } from './drift.ts';
import type { JoinTotals } from './join-tracker.ts';
import type { RecentFigures, VersionTotals, WindowFigures } from './online-evaluator.ts';

/** What the collect callbacks read (the Monitor implements it). */
export interface MetricsView {
  versions(): readonly { readonly version: string; readonly totals: VersionTotals; readonly window: WindowFigures; readonly recent: RecentFigures }[];
  windowSeconds(): number;
  join(): { readonly lagMs: number | null; readonly backlog: number | null; readonly totals: JoinTotals; readonly stats: JoinStats | null };
  freshness(): readonly { readonly entity: string; readonly ageMs: number | null }[];
  aggregateBacklog(): number | null;
  driftReport(): DriftReport;
  alertState(): { readonly active: readonly Alert[]; readonly fired: ReadonlyMap<AlertRule, number> };
  registry(): { readonly model: string; readonly versions: number; readonly champion: number | null; readonly moves: ReadonlyMap<string, number> } | null;
  records(): ReadonlyMap<string, { readonly records: number; readonly invalid: number }>;
  continuous(): ContinuousStats | null;
}

export interface MonitorMetrics {
  readonly trainingRuns: Counter<'pipeline' | 'status'>;
  readonly stepDuration: Histogram<'pipeline' | 'step'>;
  readonly gateDecisions: Counter<'pipeline' | 'decision'>;
  readonly lastRun: Gauge<'pipeline' | 'status'>;
  readonly webhookDeliveries: Counter<'result' | 'type'>;
}

type Labels = Record<string, string>;

/** A gauge whose values are recomputed at each scrape. */
function gauge(registry: Registry, name: string, help: string, labelNames: string[], values: () => Iterable<[Labels, number | null]>): void {
  new Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, v] of values()) if (v !== null && Number.isFinite(v)) this.set(labels, v);
    },
  });
}

/** A counter whose cumulative values the monitor keeps (reset and set at each scrape). */
function counter(registry: Registry, name: string, help: string, labelNames: string[], values: () => Iterable<[Labels, number | null]>): void {
  new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, v] of values()) if (v !== null && v > 0) this.inc(labels, v);
    },
  });
}

export function createMonitorMetrics(registry: Registry, view: MetricsView): MonitorMetrics {
  const perVersion = (pick: (v: ReturnType<MetricsView['versions']>[number]) => number | null) => () =>
    view.versions().map((v): [Labels, number | null] => [{ model_version: v.version }, pick(v)]);
  counter(registry, 'pctr_online_impressions_total', 'Served impressions the monitor read, by model version', ['model_version'], perVersion((v) => v.totals.impressions));
  counter(registry, 'pctr_online_requests_total', 'Rank requests that served at least one ad, by model version', ['model_version'], perVersion((v) => v.totals.requests));
  counter(registry, 'pctr_online_clicks_total', 'Attributed clicks (positive labeled examples), by model version', ['model_version'], perVersion((v) => v.totals.clicks));
  counter(registry, 'pctr_online_expected_clicks_total', 'Sum of served pCTR (clicks the model expected), by model version', ['model_version'], perVersion((v) => v.totals.predicted));
  counter(registry, 'pctr_online_examples_total', 'Labeled examples joined, by model version', ['model_version'], perVersion((v) => v.totals.examples));
  gauge(registry, 'pctr_online_ctr', 'Clicks per impression over the sliding window (impression event time)', ['model_version'], perVersion((v) => v.window.ctr));
  gauge(registry, 'pctr_online_mean_pctr', 'Mean served pCTR over the sliding window', ['model_version'], perVersion((v) => v.window.meanPctr));
  gauge(registry, 'pctr_online_calibration', 'Mean pCTR divided by CTR over the sliding window (1 = calibrated)', ['model_version'], perVersion((v) => v.window.calibration));
  gauge(registry, 'pctr_online_window_impressions', 'Impressions in the sliding window', ['model_version'], perVersion((v) => v.window.impressions));
  gauge(registry, 'pctr_online_logloss', 'Logloss over the recent joined examples', ['model_version'], perVersion((v) => v.recent.logloss));
  gauge(registry, 'pctr_online_auc', 'ROC AUC over the recent joined examples', ['model_version'], perVersion((v) => v.recent.auc));
  gauge(registry, 'pctr_online_window_seconds', 'Length of the sliding window of the online gauges', [], () => [[{}, view.windowSeconds()]]);

  gauge(registry, 'pctr_join_lag_seconds', 'Event time the join watermark trails the newest served impression', [], () => [[{}, ms(view.join().lagMs)]]);
  gauge(registry, 'pctr_join_backlog_records', 'Impression and click records the join has not read', [], () => [[{}, view.join().backlog]]);
  counter(registry, 'pctr_join_labels_total', 'Labeled examples the join emitted, by label', ['label'], () => {
    const t = view.join().totals;
    return [
      [{ label: 'positive' }, t.positives],
      [{ label: 'negative' }, t.negatives],
    ];
  });
  counter(registry, 'pctr_join_unattributed_clicks_total', 'Clicks not attributed: after the window (late) or for an unknown impression', ['reason'], () => {
    const t = view.join().totals;
    return [
      [{ reason: 'late' }, t.late],
      [{ reason: 'unknown' }, t.unknown],
    ];
  });
  gauge(registry, 'pctr_join_pending_impressions', 'Impressions whose attribution window is open (join in this process)', [], () => [[{}, view.join().stats?.pending ?? null]]);
  counter(registry, 'pctr_join_duplicate_clicks_total', 'Repeated clicks on an impression already labeled (join in this process)', [], () => [[{}, view.join().stats?.duplicateClicks ?? 0]]);

  gauge(registry, 'pctr_feature_freshness_seconds', 'Event-time age of the online aggregates, by entity type', ['entity'], () => view.freshness().map((f): [Labels, number | null] => [{ entity: f.entity }, ms(f.ageMs)]));
  gauge(registry, 'pctr_aggregate_backlog_records', 'Impression and example records the streaming aggregator has not read', [], () => [[{}, view.aggregateBacklog()]]);
  gauge(registry, 'pctr_feature_drift_psi', 'Population stability index of a served feature vs the champion training data', ['feature'], () =>
    view.driftReport().features.map((f): [Labels, number | null] => [{ feature: f.feature }, f.psi]),
  );
  gauge(registry, 'pctr_prediction_drift_psi', 'Population stability index of served pCTR vs the first predictions of the champion', [], () => [[{}, view.driftReport().pctr.psi]]);

  gauge(registry, 'pctr_alerts_active', 'Active alerts by rule and severity', ['rule', 'severity'], () => {
    const counts = new Map<string, [Labels, number]>();
    for (const a of view.alertState().active) {
      const key = `${a.rule}/${a.severity}`;
      const entry = counts.get(key) ?? [{ rule: a.rule, severity: a.severity }, 0];
      entry[1]++;
      counts.set(key, entry);
    }
    return counts.values();
  });
  counter(registry, 'pctr_alerts_fired_total', 'Alerts fired, by rule', ['rule'], () => [...view.alertState().fired].map(([rule, n]): [Labels, number] => [{ rule }, n]));

  gauge(registry, 'pctr_registry_versions', 'Registered versions of the served model', ['model'], () => {
    const r = view.registry();
    return r === null ? [] : [[{ model: r.model }, r.versions]];
  });
  gauge(registry, 'pctr_registry_champion_version', 'Version the champion alias points to', ['model'], () => {
    const r = view.registry();
    return r === null ? [] : [[{ model: r.model }, r.champion]];
  });
  counter(registry, 'pctr_registry_alias_moves_total', 'Alias moves recorded in the registry (promotions, rollbacks, deletes)', ['model', 'alias', 'action'], () => {
    const r = view.registry();
    if (r === null) return [];
    return [...r.moves].map(([key, n]): [Labels, number] => {
      const [alias, action] = key.split('/');
      return [{ model: r.model, alias, action }, n];
    });
  });

  counter(registry, 'pctr_monitor_records_total', 'Records the monitor read, by topic', ['topic'], () => [...view.records()].map(([topic, r]): [Labels, number] => [{ topic }, r.records]));
  counter(registry, 'pctr_monitor_invalid_records_total', 'Records the monitor could not read, by topic', ['topic'], () => [...view.records()].map(([topic, r]): [Labels, number] => [{ topic }, r.invalid]));
  counter(registry, 'pctr_continuous_examples_total', 'Examples the continuous learner learned from (learner in this process)', [], () => [[{}, view.continuous()?.examples ?? 0]]);
  counter(registry, 'pctr_continuous_published_total', 'Versions the continuous learner published (learner in this process)', [], () => [[{}, view.continuous()?.published ?? 0]]);

  const registers = [registry];
  return {
    trainingRuns: new Counter({ name: 'pctr_training_runs_total', help: 'Pipeline runs finished, by pipeline and status', labelNames: ['pipeline', 'status'], registers }),
    stepDuration: new Histogram({
      name: 'pctr_training_step_duration_seconds',
      help: 'Duration of pipeline steps (latest attempt), by pipeline and step',
      labelNames: ['pipeline', 'step'],
      buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600],
      registers,
    }),
    gateDecisions: new Counter({ name: 'pctr_training_gate_decisions_total', help: 'Promotion gate decisions, by pipeline and decision', labelNames: ['pipeline', 'decision'], registers }),
    lastRun: new Gauge({ name: 'pctr_training_last_run_timestamp_seconds', help: 'Wall time the latest run of a pipeline finished, by its status', labelNames: ['pipeline', 'status'], registers }),
    webhookDeliveries: new Counter({ name: 'pctr_webhook_deliveries_total', help: 'Webhook events by outcome (delivered, failed after retries, dropped) and type', labelNames: ['result', 'type'], registers }),
  };
}

function ms(v: number | null): number | null {
  return v === null ? null : v / 1000;
}
