/**
 * The dashboard's /api endpoints through the gateway (app.inject): every answer matches its schema
 * in src/dashboard/api/types.ts, every route wants an API key, and the figures come from real
 * traffic — market requests ranked by an FTRL champion, clicks, and the join's labels.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import * as T from '../src/dashboard/api/types.ts';
import { FIXTURE_START_TS } from '../src/serving/testing/fixtures.ts';
import { fixtureModel, waitFor } from '../src/serving/testing/gateway-fixture.ts';
import { ADMIN, CLIENT, driveMarket, openMonitoredGateway, runJoin, type MonitoredGateway, type TrafficReport } from './helpers/monitored-gateway.ts';

let gw: MonitoredGateway;
let traffic: TrafficReport;

beforeAll(async () => {
  gw = await openMonitoredGateway({ models: [await fixtureModel()], overrides: { 'monitoring.driftMinRows': 50, 'monitoring.minClicks': 5, 'monitoring.settleMs': 0 } });
  traffic = await driveMarket(gw.app, { requests: 400, startTs: FIXTURE_START_TS, stepMs: 1500 });
  await runJoin(gw.log, gw.config);
  const m = gw.monitor;
  await waitFor('the monitor to read every impression and label', () => {
    const t = m.evaluator.totals('ctr@1');
    return t.impressions === traffic.impressions && t.examples === traffic.impressions;
  });
  // A failed pipeline run, for the pipeline view and the training alert.
  const runs = gw.runs;
  await runs.createRun({ id: 'run-failed-1', pipeline: 'batch', trigger: 'manual', range: { from: 0, to: 1 }, params: {}, steps: ['extract', 'validate', 'train'] });
  await runs.startStep('run-failed-1', 'extract');
  await runs.completeStep('run-failed-1', 'extract', { rows: 10 }, 12);
  await runs.startStep('run-failed-1', 'validate');
  await runs.failStep('run-failed-1', 'validate', { code: 'PCTR_DATA_INVALID', message: 'no positives in the test slice' }, 5);
  await runs.finishRun('run-failed-1', { status: 'failed', error: { code: 'PCTR_DATA_INVALID', message: 'no positives in the test slice' } });
  await m.refresh();
  m.evaluate();
});

afterAll(async () => {
  await gw?.close();
});

async function get<S extends z.ZodType>(url: string, schema: S): Promise<z.output<S>> {
  const res = await gw.app.inject({ method: 'GET', url, headers: CLIENT });
  expect(res.statusCode, res.body).toBe(200);
  return schema.parse(res.json());
}

const ROUTES: [string, string][] = [
  ['GET', '/api/overview'],
  ['GET', '/api/traffic'],
  ['GET', '/api/ab'],
  ['GET', '/api/models'],
  ['GET', '/api/models/1/curves'],
  ['GET', '/api/features'],
  ['GET', '/api/join'],
  ['GET', '/api/pipeline'],
  ['GET', '/api/alerts'],
  ['POST', '/api/inspect'],
];

describe('dashboard API', () => {
  it('wants an API key on every route (401 without one or with an unknown one), and takes client and admin keys', async () => {
    for (const [method, url] of ROUTES) {
      const payload = method === 'POST' ? { sample: true } : undefined;
      const none = await gw.app.inject({ method: method as 'GET', url, payload });
      expect(none.statusCode, `${method} ${url}`).toBe(401);
      expect(none.json().code).toBe('PCTR_UNAUTHORIZED');
      const unknown = await gw.app.inject({ method: method as 'GET', url, payload, headers: { 'x-api-key': 'nope' } });
      expect(unknown.statusCode).toBe(401);
      for (const headers of [CLIENT, ADMIN]) {
        const ok = await gw.app.inject({ method: method as 'GET', url, payload, headers });
        expect(ok.statusCode, `${method} ${url}: ${ok.body}`).toBe(200);
      }
    }
  });

  it('overview: every box of the diagram has a numeric figure; figures follow the traffic', async () => {
    const o = await get('/api/overview', T.Overview);
    for (const id of T.BOX_IDS) expect(o.boxes[id].figures.some((f) => typeof f.value === 'number'), id).toBe(true);
    const fig = (box: T.BoxId, label: string) => o.boxes[box].figures.find((f) => f.label === label)?.value;
    expect(fig('model_server', 'champion')).toBe('ctr@1');
    expect(fig('registry', 'versions')).toBe(1);
    expect(fig('label_backfill', 'labels')).toBe(traffic.impressions);
    expect(fig('logging', 'logged')).toBe(traffic.impressions);
    expect(o.boxes.training.status).toBe('alert');
  });

  it('traffic: per-version series over event-time buckets, CTR = clicks ÷ impressions', async () => {
    const t = await get('/api/traffic?minutes=30', T.TrafficResponse);
    expect(t.step_ms).toBe(60_000);
    const s = t.series.find((x) => x.version === 'ctr@1')!;
    expect(s.ts.length).toBe(30);
    const n = s.ts.length;
    for (const k of ['requests', 'impressions', 'clicks', 'ctr', 'mean_pctr', 'calibration'] as const) expect(s[k].length).toBe(n);
    expect(s.impressions.reduce((a, b) => a + b, 0)).toBe(traffic.impressions);
    expect(s.requests.reduce((a, b) => a + b, 0)).toBe(traffic.requests);
    s.ctr.forEach((c, i) => expect(c).toBe(s.impressions[i] > 0 ? s.clicks[i] / s.impressions[i] : null));
    const bad = await gw.app.inject({ method: 'GET', url: '/api/traffic?minutes=abc', headers: CLIENT });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toContain('minutes');
  });

  it('ab: the champion with its CTR interval, logloss and AUC over joined examples', async () => {
    const ab = await get('/api/ab', T.AbResponse);
    const v = ab.versions.find((x) => x.version === 'ctr@1')!;
    expect(v.alias).toBe('champion');
    expect(v.impressions).toBe(traffic.impressions);
    expect(v.ctr_ci[0]).toBeLessThanOrEqual(v.ctr!);
    expect(v.ctr_ci[1]).toBeGreaterThanOrEqual(v.ctr!);
    expect(v.examples).toBe(traffic.impressions);
    expect(v.logloss).toBeGreaterThan(0);
    expect(v.auc).toBeGreaterThan(0.5);
  });

  it('models: versions with lineage and alias history; curves scored on recent examples; unknown version 404', async () => {
    const m = await get('/api/models', T.ModelsResponse);
    expect(m).toMatchObject({ name: 'ctr', champion: 1, challenger: null });
    expect(m.versions.map((v) => v.version)).toEqual([1]);
    expect(m.history[0]).toMatchObject({ alias: 'champion', action: 'set', toVersion: 1 });
    const c = await get('/api/models/1/curves', T.CurvesResponse);
    expect(c.source).toBe('online');
    expect(c.n).toBe(traffic.impressions);
    expect(c.roc.fpr[0]).toBe(0);
    expect(c.roc.tpr.at(-1)).toBe(1);
    // The champion served these examples: re-scored, they give the AUC of the served scores.
    expect(c.auc).toBeCloseTo(gw.monitor.evaluator.recent('ctr@1').auc!, 3);
    expect(c.reliability.count.reduce((a, b) => a + b, 0)).toBe(c.n);
    const missing = await gw.app.inject({ method: 'GET', url: '/api/models/99/curves', headers: CLIENT });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().code).toBe('PCTR_UNKNOWN_MODEL');
  });

  it('features: PSI per served feature against the reference, freshness per entity type', async () => {
    const f = await get('/api/features', T.FeaturesResponse);
    expect(f.reference.source).toBe('served-baseline');
    expect(f.drift.map((d) => d.feature)).toContain('ctx_device');
    expect(f.drift.map((d) => d.feature)).not.toContain('ctx_hour');
    expect(f.drift.filter((d) => d.psi !== null).length).toBeGreaterThan(5);
    expect(f.freshness.map((x) => x.entity)).toEqual(['user', 'ad', 'campaign', 'user_category']);
  });

  it('join: totals match the labels, series per bucket', async () => {
    const j = await get('/api/join', T.JoinResponse);
    expect(j.totals.positives + j.totals.negatives).toBe(traffic.impressions);
    expect(j.series.ts.length).toBe(60);
    expect(j.series.positives.reduce((a, b) => a + b, 0)).toBe(j.totals.positives);
  });

  it('pipeline: runs as DAGs with step states, attempts and errors', async () => {
    const p = await get('/api/pipeline', T.PipelineResponse);
    const run = p.runs.find((r) => r.id === 'run-failed-1')!;
    expect(run.status).toBe('failed');
    expect(run.steps.map((s) => [s.name, s.status, s.deps])).toEqual([
      ['extract', 'succeeded', []],
      ['validate', 'failed', ['extract']],
      ['train', 'pending', ['validate']],
    ]);
    expect(run.steps[1].error).toContain('no positives');
  });

  it('alerts: a failed training run is an active alert on the training box', async () => {
    const a = await get('/api/alerts', T.AlertsResponse);
    const failed = a.active.find((x) => x.rule === 'training_failed')!;
    expect(failed).toMatchObject({ id: 'training_failed:batch', severity: 'alert', box: 'training', subject: 'batch' });
    expect(failed.message).toContain('run-failed-1');
    expect(a.recent.map((x) => x.id)).toContain('training_failed:batch');
  });

  it('inspect: ranks a sampled or given request without logging it, with per-feature contributions', async () => {
    const before = gw.app.serving.predictions.stats().appended;
    const res = await gw.app.inject({ method: 'POST', url: '/api/inspect', headers: CLIENT, payload: { sample: true } });
    expect(res.statusCode, res.body).toBe(200);
    const out = T.InspectResponse.parse(res.json());
    expect(out.modelVersion).toBe('ctr@1');
    expect(out.kind).toBe('ftrl');
    expect(out.ranking.length).toBeGreaterThan(0);
    const first = out.ranking[0];
    expect(first.contributions!.map((c) => c.feature)).toContain('ctx_device');
    const logit = Math.log(first.pCTR / (1 - first.pCTR));
    const sum = first.contributions!.reduce((s, c) => s + c.weight, 0);
    // The fixture model is uncalibrated: contributions sum to the served logit.
    expect(sum).toBeCloseTo(logit, 3);
    expect(first.contributions!.find((c) => c.feature === 'ctx_device')!.value).toBe((out.request.context as { device: string }).device);
    const req = out.request as { userId: string; context: unknown; candidates: unknown[] };
    const again = await gw.app.inject({ method: 'POST', url: '/api/inspect', headers: CLIENT, payload: { userId: req.userId, context: req.context, candidates: req.candidates, k: 2 } });
    expect(again.statusCode, again.body).toBe(200);
    expect(T.InspectResponse.parse(again.json()).ranking.length).toBeLessThanOrEqual(2);
    await gw.app.serving.predictions.drain();
    expect(gw.app.serving.predictions.stats().appended).toBe(before);
    const bad = await gw.app.inject({ method: 'POST', url: '/api/inspect', headers: CLIENT, payload: { userId: 'u', candidates: [] } });
    expect(bad.statusCode).toBe(400);
  });
});
