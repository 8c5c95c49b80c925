/**
 * Acceptance: the gateway's /metrics parses as Prometheus text with conventional names, units and
 * types, and the online CTR and calibration per model version agree with counts computed here,
 * independently, from the impressions and examples topics (A/B: champion and challenger serve).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOPICS } from '../src/core/index.ts';
import { FIXTURE_START_TS, trainFixtureModel } from '../src/serving/testing/fixtures.ts';
import { fixtureModel, readTopic, waitFor } from '../src/serving/testing/gateway-fixture.ts';
import { driveMarket, openMonitoredGateway, runJoin, type MonitoredGateway, type TrafficReport } from './helpers/monitored-gateway.ts';
import { parsePrometheusText, sampleValue, type Family } from './helpers/prometheus-text.ts';

let gw: MonitoredGateway;
let traffic: TrafficReport;
let families: Map<string, Family>;

beforeAll(async () => {
  const models = [await fixtureModel(), await trainFixtureModel({ seed: 41, examples: 3_000 })];
  gw = await openMonitoredGateway({ models, overrides: { 'gateway.challengerShare': 0.4, 'monitoring.windowMs': '24h', 'monitoring.settleMs': 0 } });
  await gw.app.serving.holder.sync('challenger');
  traffic = await driveMarket(gw.app, { requests: 700, startTs: FIXTURE_START_TS, stepMs: 1000, users: 300 });
  await runJoin(gw.log, gw.config);
  const ev = gw.monitor.evaluator;
  await waitFor('the monitor to read every impression and label', () => {
    const versions = ev.versions().map((v) => ev.totals(v));
    return versions.reduce((s, t) => s + t.impressions, 0) === traffic.impressions && versions.reduce((s, t) => s + t.examples, 0) === traffic.impressions;
  });
  await gw.monitor.refresh();
  const res = await gw.app.inject({ method: 'GET', url: '/metrics' });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toContain('text/plain');
  families = parsePrometheusText(res.body);
});

afterAll(async () => {
  await gw?.close();
});

describe('/metrics', () => {
  it('is Prometheus text: every family typed and documented, counters end in _total, units in names, histograms well formed', () => {
    expect(families.size).toBeGreaterThan(40);
    for (const f of families.values()) {
      expect(f.help.length, `${f.name} has no HELP`).toBeGreaterThan(0);
      if (f.type === 'counter') expect(f.name, 'counter names end in _total').toMatch(/_total$/);
      // prom-client's default process metrics have their own (older) naming, e.g. the gauge nodejs_active_resources_total.
      const own = !/^pctr_(nodejs|process)_/.test(f.name);
      if (own && f.name.endsWith('_total')) expect(f.type, `${f.name} is a counter`).toBe('counter');
      if (f.type !== 'histogram') continue;
      expect(f.name).toMatch(/_(seconds|bytes)$/);
      const series = new Map<string, { le: number; v: number }[]>();
      for (const s of f.samples.filter((x) => x.name === `${f.name}_bucket`)) {
        const { le, ...rest } = s.labels;
        const key = JSON.stringify(rest);
        series.set(key, [...(series.get(key) ?? []), { le: le === '+Inf' ? Infinity : Number(le), v: s.value }]);
      }
      for (const [key, buckets] of series) {
        expect(buckets.at(-1)!.le).toBe(Infinity);
        for (let i = 1; i < buckets.length; i++) expect(buckets[i].v).toBeGreaterThanOrEqual(buckets[i - 1].v);
        expect(sampleValue(families, `${f.name}_count`, JSON.parse(key) as Record<string, string>)).toBe(buckets.at(-1)!.v);
      }
    }
  });

  it('covers serving, online evaluation, the join, features, drift, training, the registry and alerts', () => {
    const expected: [string, string][] = [
      ['pctr_http_request_duration_seconds', 'histogram'],
      ['pctr_rank_duration_seconds', 'histogram'],
      ['pctr_candidates_scored_total', 'counter'],
      ['pctr_impressions_served_total', 'counter'],
      ['pctr_feature_store_reads_total', 'counter'],
      ['pctr_feature_store_misses_total', 'counter'],
      ['pctr_serving_degraded', 'gauge'],
      ['pctr_online_impressions_total', 'counter'],
      ['pctr_online_clicks_total', 'counter'],
      ['pctr_online_ctr', 'gauge'],
      ['pctr_online_mean_pctr', 'gauge'],
      ['pctr_online_calibration', 'gauge'],
      ['pctr_online_logloss', 'gauge'],
      ['pctr_online_auc', 'gauge'],
      ['pctr_join_lag_seconds', 'gauge'],
      ['pctr_join_backlog_records', 'gauge'],
      ['pctr_join_unattributed_clicks_total', 'counter'],
      ['pctr_feature_freshness_seconds', 'gauge'],
      ['pctr_feature_drift_psi', 'gauge'],
      ['pctr_prediction_drift_psi', 'gauge'],
      ['pctr_training_runs_total', 'counter'],
      ['pctr_training_step_duration_seconds', 'histogram'],
      ['pctr_training_gate_decisions_total', 'counter'],
      ['pctr_registry_alias_moves_total', 'counter'],
      ['pctr_alerts_active', 'gauge'],
      ['pctr_webhook_deliveries_total', 'counter'],
    ];
    for (const [name, type] of expected) expect(families.get(name)?.type, name).toBe(type);
    expect(sampleValue(families, 'pctr_registry_alias_moves_total', { model: 'ctr', alias: 'champion', action: 'set' })).toBe(1);
    expect(sampleValue(families, 'pctr_registry_alias_moves_total', { model: 'ctr', alias: 'challenger', action: 'set' })).toBe(1);
    expect(sampleValue(families, 'pctr_join_labels_total', { label: 'positive' })! + sampleValue(families, 'pctr_join_labels_total', { label: 'negative' })!).toBe(traffic.impressions);
  });

  it('online CTR and calibration per version agree with counts from the event log within 1%', async () => {
    const impressions = await readTopic(gw.log, TOPICS.impressions, traffic.impressions);
    const examples = await readTopic(gw.log, TOPICS.examples, traffic.impressions);
    const byVersion = new Map<string, { imps: number; pctr: number; clicks: number }>();
    const at = (v: string) => byVersion.get(v) ?? byVersion.set(v, { imps: 0, pctr: 0, clicks: 0 }).get(v)!;
    for (const r of impressions) {
      const imp = JSON.parse(r.value) as { modelVersion: string; pCTR: number };
      at(imp.modelVersion).imps++;
      at(imp.modelVersion).pctr += imp.pCTR;
    }
    for (const r of examples) {
      const ex = JSON.parse(r.value) as { modelVersion: string; label: number };
      at(ex.modelVersion).clicks += ex.label;
    }
    expect([...byVersion.keys()].sort()).toEqual(['ctr@1', 'ctr@2']);
    for (const [version, c] of byVersion) {
      expect(c.imps, `${version} serves a real share`).toBeGreaterThan(300);
      expect(c.clicks, `${version} has clicks`).toBeGreaterThan(5);
      const labels = { model_version: version };
      expect(sampleValue(families, 'pctr_online_impressions_total', labels)).toBe(c.imps);
      expect(sampleValue(families, 'pctr_online_clicks_total', labels)).toBe(c.clicks);
      const ctr = sampleValue(families, 'pctr_online_ctr', labels)!;
      const calibration = sampleValue(families, 'pctr_online_calibration', labels)!;
      const meanPctr = sampleValue(families, 'pctr_online_mean_pctr', labels)!;
      expect(Math.abs(ctr - c.clicks / c.imps) / (c.clicks / c.imps)).toBeLessThan(0.01);
      expect(Math.abs(calibration - c.pctr / c.clicks) / (c.pctr / c.clicks)).toBeLessThan(0.01);
      expect(Math.abs(meanPctr - c.pctr / c.imps) / (c.pctr / c.imps)).toBeLessThan(0.01);
      const auc = sampleValue(families, 'pctr_online_auc', labels)!;
      expect(auc).toBeGreaterThan(0.4);
      expect(auc).toBeLessThan(1);
    }
  });
});
