import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { syntheticExamples } from '../../../test/helpers/synthetic-examples.ts';
import { tempDir } from '../../../test/helpers/services.ts';
import { TOPICS, silentLogger } from '../../core/index.ts';
import { appendEvents, createEventLog, type EventLog } from '../../events/index.ts';
import { servedFeatureSchema } from '../../features/index.ts';
import { createLearner, encodeArtifact, loadModel } from '../../models/index.ts';
import { createRegistry, type Registry } from '../../registry/index.ts';
import { createRunStore, type RunStore } from '../run-store/index.ts';
import { ContinuousLearner, type ContinuousLearnerOptions } from './continuous-learner.ts';

const H = 3_600_000;
const T0 = Date.parse('2026-04-01T00:00:00Z');

describe('continuous learner', () => {
  let tmp: { dir: string; remove: () => void };
  let log: EventLog;
  let registry: Registry;
  let runs: RunStore;
  const learners: ContinuousLearner[] = [];

  beforeEach(async () => {
    tmp = tempDir('continuous');
    log = await createEventLog({ url: `file:${join(tmp.dir, 'events')}`, partitions: 2, fsync: 'never', fsyncIntervalMs: 200, segmentBytes: 1 << 26, retentionBytes: 0, retentionMs: 0 });
    registry = await createRegistry({ url: `sqlite:${join(tmp.dir, 'registry.db')}`, artifacts: join(tmp.dir, 'artifacts'), logger: silentLogger });
    runs = await createRunStore(`sqlite:${join(tmp.dir, 'runs.db')}`);
  });

  afterEach(async () => {
    for (const l of learners.splice(0)) await l.stop();
    await runs.close();
    await registry.close();
    await log.close();
    tmp.remove();
  });

  /** A registered champion that has learned nothing (every weight zero): it predicts 0.5 for everyone. */
  const blankChampion = async () => {
    const bytes = encodeArtifact(createLearner('ftrl', { bits: 16 }, servedFeatureSchema()).toArtifact());
    const v = await registry.register('ctr', bytes, { kind: 'ftrl', params: { bits: 16 }, metrics: {} });
    await registry.setAlias('ctr', 'champion', v.version);
    return v.version;
  };

  const start = async (opts: Partial<ContinuousLearnerOptions> = {}) => {
    const l = await ContinuousLearner.create({ log, registry, runs, modelName: 'ctr', kind: 'ftrl', params: { bits: 16 }, everyExamples: 3_000, pollMax: 500, pollWaitMs: 20, ...opts });
    learners.push(l);
    return l;
  };

  /** Steps until the topic is drained (a poll that returns nothing). */
  const drain = async (l: ContinuousLearner) => {
    while ((await l.step()) > 0);
  };

  it('publishes a version after N examples when it beats the served champion on the window', async () => {
    const v1 = await blankChampion();
    // Served pCTRs were a constant: the champion in production could not rank at all.
    await appendEvents(log, TOPICS.examples, syntheticExamples({ n: 2_900, from: T0, to: T0 + H, served: 0.1 }));
    const l = await start();
    expect(l.stats().warmStartedFrom).toBe(v1);
    await drain(l);
    expect(l.stats()).toMatchObject({ examples: 2_900, decisions: 0, published: 0 });
    expect((await registry.list('ctr')).length).toBe(1);

    await appendEvents(log, TOPICS.examples, syntheticExamples({ n: 200, from: T0 + H, to: T0 + H + 60_000, served: 0.1, seed: 2 }));
    await drain(l);
    const s = l.stats();
    expect(s).toMatchObject({ examples: 3_100, decisions: 1, published: 1 });
    expect(s.lastDecision).toMatchObject({ promoted: true, version: 2, championVersion: v1 });
    expect(s.lastDecision!.learner.auc).toBeGreaterThan(0.6);
    expect(s.lastDecision!.reason).toMatch(/^beats the served champion \(v1\): AUC 0\.\d{4} ≥ 0\.5000 \+ 0/);
    const champion = await registry.get('ctr', '@champion');
    expect(champion).toMatchObject({ version: 2, parentVersion: v1, kind: 'ftrl', runId: s.lastDecision!.runId });
    expect(champion.description).toMatch(/^continuous learner, progressive validation: beats/);
    // The snapshot carries a Platt calibration fitted on the window; the learner keeps scoring raw.
    const snapshot = loadModel(await registry.loadArtifact(champion)) as unknown as { calibration: { method: string; platt?: { a: number; b: number } } };
    expect(snapshot.calibration.method).toBe('platt');
    expect(Number.isFinite(snapshot.calibration.platt!.a) && Number.isFinite(snapshot.calibration.platt!.b)).toBe(true);
    expect(s.lastDecision!.learner.calibration).toBeGreaterThan(0.9);
    expect(s.lastDecision!.learner.calibration).toBeLessThan(1.1);
    const [run] = await runs.listRuns({ pipeline: 'continuous' });
    expect(run).toMatchObject({ trigger: 'continuous', status: 'succeeded', gate: { promoted: true, version: 2, championVersion: 1 } });
  });

  it('does not publish when the served champion is better, and records why', async () => {
    await blankChampion();
    // Served pCTRs were the true click probabilities: no learner can beat that ranking.
    await appendEvents(log, TOPICS.examples, syntheticExamples({ n: 3_500, from: T0, to: T0 + H, served: 'oracle' }));
    const l = await start();
    await drain(l);
    const s = l.stats();
    expect(s).toMatchObject({ decisions: 1, published: 0 });
    expect(s.lastDecision).toMatchObject({ promoted: false, version: null, championVersion: 1 });
    expect(s.lastDecision!.reason).toMatch(/^kept the served champion \(v1\): AUC 0\.\d{4} < the served champion \(v1\)'s 0\.\d{4} \+ 0/);
    expect((await registry.list('ctr')).length).toBe(1);
    const [run] = await runs.listRuns({ pipeline: 'continuous' });
    expect(run.gate).toMatchObject({ promoted: false, reason: s.lastDecision!.reason });
  });

  it('with no champion, publishes only once it beats the base rate, judged on wall time too', async () => {
    let wall = 0;
    await appendEvents(log, TOPICS.examples, syntheticExamples({ n: 2_000, from: T0, to: T0 + H }));
    const l = await start({ everyExamples: 1_000_000, window: 1_000, everyMs: 60_000, wallNow: () => wall });
    expect(l.stats().warmStartedFrom).toBeNull();
    await drain(l);
    expect(l.stats().decisions).toBe(0);
    wall = 60_000;
    await appendEvents(log, TOPICS.examples, syntheticExamples({ n: 10, from: T0 + H, to: T0 + H + 10, seed: 3 }));
    await drain(l);
    expect(l.stats().lastDecision).toMatchObject({ promoted: true, version: 1, championVersion: null });
    expect(l.stats().lastDecision!.reason).toMatch(/^beats the base rate/);
  });

  it('learns from scratch when the champion reads other features', async () => {
    const other = createLearner('ftrl', { bits: 16 }, { fields: [{ name: 'C1', kind: 'categorical' }] });
    const v = await registry.register('ctr', encodeArtifact(other.toArtifact()), { kind: 'ftrl', params: {}, metrics: {} });
    await registry.setAlias('ctr', 'champion', v.version);
    const l = await start();
    expect(l.stats().warmStartedFrom).toBeNull();
  });

  it('skips invalid records, counting them, and keeps learning', async () => {
    await log.append(TOPICS.examples, [
      { key: 'x', value: 'not json' },
      { key: 'y', value: JSON.stringify({ type: 'example', label: 2 }) },
    ]);
    await appendEvents(log, TOPICS.examples, syntheticExamples({ n: 100, from: T0, to: T0 + H }));
    const l = await start();
    await drain(l);
    expect(l.stats()).toMatchObject({ examples: 100, invalid: 2, errors: 0 });
  });
});
