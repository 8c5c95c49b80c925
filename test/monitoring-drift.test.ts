/**
 * Acceptance: simulator traffic with the scheduled context shift (the device mix changes) raises
 * the drift alert for ctx_device within 5 simulated minutes of the shift, and for no other feature.
 * The reference is the champion's training data as the batch pipeline keeps it: the validate step's
 * per-feature statistics of the first simulated minutes, stored with the run that registered the
 * champion. The monitor then reads the whole stream from the event log, as it would live.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawBatchBuilder, TOPICS, loadConfig, silentLogger, type Config } from '../src/core/index.ts';
import { createEventLog, type EventLog } from '../src/events/index.ts';
import { servedFeatureSchema } from '../src/features/index.ts';
import { Monitor, type Alert } from '../src/monitoring/index.ts';
import { createRegistry, type Registry } from '../src/registry/index.ts';
import { fixtureModel, waitFor } from '../src/serving/testing/gateway-fixture.ts';
import { DEFAULT_START_TS, EventGenerator } from '../src/sim/index.ts';
import { StatsAccumulator, createRunStore, type RunStore } from '../src/training/index.ts';

const MIN = 60_000;
const RATE = 100;
const TRAIN_MS = 10 * MIN;
const SHIFT_MS = 15 * MIN;
const END_MS = 25 * MIN;
const SHIFT_TS = DEFAULT_START_TS + SHIFT_MS;

let dir: string;
let config: Config;
let log: EventLog;
let registry: Registry;
let runs: RunStore;
let monitor: Monitor;
let impressions = 0;
let drift: Alert[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pctr-drift-'));
  config = loadConfig({ env: {}, overrides: { dataDir: dir, logLevel: 'silent', 'events.url': `file:${join(dir, 'events')}`, 'events.partitions': 4, 'registry.url': `sqlite:${join(dir, 'registry.db')}`, 'registry.artifacts': join(dir, 'artifacts') } });
  log = await createEventLog(config.events);
  registry = await createRegistry({ url: config.registry.url, artifacts: config.registry.artifacts, logger: silentLogger, pollMs: 50 });
  runs = await createRunStore(`sqlite:${join(dir, 'runs.db')}`);

  // The simulator's stream: device mix shifts at 15 simulated minutes; the first 10 are the champion's training data.
  const gen = new EventGenerator({ seed: 11, impressions: (RATE * END_MS) / 1000, ratePerSec: RATE, startTs: DEFAULT_START_TS, drift: { contextShift: { feature: 'device', atMs: SHIFT_MS } } });
  const training = new RawBatchBuilder(servedFeatureSchema(), (RATE * TRAIN_MS) / 1000);
  for (let batch = gen.nextRecords(); batch !== null; batch = gen.nextRecords()) {
    for (const r of batch.impressions) {
      const imp = JSON.parse(r.value) as { ts: number; features: Record<string, string | number> };
      if (imp.ts < DEFAULT_START_TS + TRAIN_MS) training.add(imp.features);
    }
    await log.append(TOPICS.impressions, batch.impressions);
    await log.append(TOPICS.clicks, batch.clicks);
  }
  impressions = gen.stats.impressions;

  // The run that trained the champion, with its validate step's feature statistics, as the pipeline records it.
  const stats = new StatsAccumulator(servedFeatureSchema(), training.n);
  stats.add(training.build());
  const steps = ['extract', 'validate', 'train', 'evaluate', 'register', 'promote'];
  await runs.createRun({ id: 'train-1', pipeline: 'batch', trigger: 'manual', range: { from: DEFAULT_START_TS, to: DEFAULT_START_TS + TRAIN_MS }, params: {}, steps });
  for (const step of steps) {
    await runs.startStep('train-1', step);
    await runs.completeStep('train-1', step, step === 'validate' ? { checks: [], warnings: [], stats: stats.finish() } : {}, 1);
  }
  await runs.finishRun('train-1', { status: 'succeeded' });
  const v = await registry.register('ctr', await fixtureModel(), { kind: 'ftrl', params: {}, metrics: {}, runId: 'train-1', dataRange: { from: DEFAULT_START_TS, to: DEFAULT_START_TS + TRAIN_MS, rows: training.n } });
  await registry.setAlias('ctr', 'champion', v.version);

  monitor = await Monitor.open({ config, log, registry, runs, logger: silentLogger, tickMs: 60_000 });
  expect(monitor.drift.currentReference).toMatchObject({ source: 'training-run', runId: 'train-1', version: 1 });
  monitor.start();
  await waitFor('the monitor to read the whole stream', () => monitor.evaluator.totals('sim@0').impressions === impressions, 60_000);
  monitor.evaluate();
  drift = monitor.alerts.recent().filter((a) => a.rule === 'drift');
}, 120_000);

afterAll(async () => {
  await monitor?.close();
  await log?.close();
  await registry?.close();
  await runs?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('drift', () => {
  it('raises the ctx_device drift alert within 5 simulated minutes of the shift, not before it', () => {
    const device = drift.find((a) => a.subject === 'ctx_device');
    expect(device, `drift alerts: ${drift.map((a) => a.id).join(', ')}`).toBeDefined();
    expect(device!.since).toBeGreaterThan(SHIFT_TS);
    expect(device!.since - SHIFT_TS).toBeLessThanOrEqual(5 * MIN);
    expect(device!.value).toBeGreaterThan(device!.threshold);
    expect(monitor.alerts.active().map((a) => a.id)).toContain('drift:ctx_device');
  });

  it('raises no drift alert for any other feature, and their PSI stays well under the threshold', () => {
    expect(drift.filter((a) => a.subject !== 'ctx_device').map((a) => a.id)).toEqual([]);
    const report = monitor.driftReport();
    expect(report.rows).toBeGreaterThanOrEqual(config.monitoring.driftMinRows);
    const checked = report.features.filter((f) => f.psi !== null).map((f) => f.feature).sort();
    // The request-level features the simulator serves, but the hour of day (ignored by design).
    expect(checked).toEqual(['ad_category', 'ad_id', 'campaign_id', 'ctx_device', 'ctx_site', 'user_id']);
    for (const f of report.features) {
      if (f.psi === null || f.feature === 'ctx_device') continue;
      expect(f.psi, f.feature).toBeLessThan(f.threshold / 2);
    }
  });
});
