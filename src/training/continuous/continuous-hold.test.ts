import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { syntheticExamples } from '../../../test/helpers/synthetic-examples.ts';
import { tempDir } from '../../../test/helpers/services.ts';
import { TOPICS, silentLogger } from '../../core/index.ts';
import { appendEvents, createEventLog, type EventLog } from '../../events/index.ts';
import { createRegistry, type Registry } from '../../registry/index.ts';
import { ContinuousLearner } from './continuous-learner.ts';

const MIN = 60_000;
const T0 = Date.parse('2026-04-01T00:00:00Z');

describe('continuous learner holding examples until their window closes', () => {
  let tmp: { dir: string; remove: () => void };
  let log: EventLog;
  let registry: Registry;
  let learner: ContinuousLearner | null = null;

  beforeEach(async () => {
    tmp = tempDir('continuous-hold');
    log = await createEventLog({ url: `file:${join(tmp.dir, 'events')}`, partitions: 2, fsync: 'never', fsyncIntervalMs: 200, segmentBytes: 1 << 26, retentionBytes: 0, retentionMs: 0 });
    registry = await createRegistry({ url: `sqlite:${join(tmp.dir, 'registry.db')}`, artifacts: join(tmp.dir, 'artifacts'), logger: silentLogger });
  });

  afterEach(async () => {
    await learner?.stop();
    await registry.close();
    await log.close();
    tmp.remove();
  });

  /** Steps until `total` examples were polled (learned or held). */
  const drain = async (l: ContinuousLearner, total: number) => {
    for (let i = 0; i < 100 && l.stats().examples + l.stats().held < total; i++) await l.step();
  };

  it('learns an example only once the stream is holdMs past its impression', async () => {
    learner = await ContinuousLearner.create({ log, registry, modelName: 'ctr', kind: 'ftrl', params: { bits: 16 }, everyExamples: 1_000_000, holdMs: 30 * MIN, pollMax: 100, pollWaitMs: 10 });
    // 60 minutes of examples, one every 6 seconds; the newest is 30 minutes past those of the first half.
    await appendEvents(log, TOPICS.examples, syntheticExamples({ n: 600, from: T0, to: T0 + 60 * MIN }));
    await drain(learner, 600);
    const first = learner.stats();
    expect(first.examples + first.held).toBe(600);
    expect(first.examples).toBeGreaterThanOrEqual(299);
    expect(first.examples).toBeLessThanOrEqual(301);

    // Ten more minutes of stream release ten minutes of what was held.
    await appendEvents(log, TOPICS.examples, syntheticExamples({ n: 100, from: T0 + 60 * MIN, to: T0 + 70 * MIN, seed: 2 }));
    await drain(learner, 700);
    const second = learner.stats();
    expect(second.examples).toBeGreaterThanOrEqual(first.examples + 99);
    expect(second.examples).toBeLessThanOrEqual(first.examples + 101);
    expect(second.held).toBe(700 - second.examples);
  });

  it('holds what the join has not finished labeling: positives wait for the negatives of their time', async () => {
    learner = await ContinuousLearner.create({ log, registry, modelName: 'ctr', kind: 'ftrl', params: { bits: 16 }, everyExamples: 1_000_000, holdMs: 30 * MIN, pollMax: 100, pollWaitMs: 10 });
    // The join's watermark is 20 minutes in: every label of [0, 20) min is out; of [20, 70) only the clicks.
    const all = syntheticExamples({ n: 700, from: T0, to: T0 + 70 * MIN });
    const isLate = (e: { ts: number }) => e.ts >= T0 + 20 * MIN;
    const final = all.filter((e) => !isLate(e));
    const clicks = all.filter((e) => isLate(e) && e.label === 1);
    expect(clicks.length).toBeGreaterThan(5);
    await appendEvents(log, TOPICS.examples, [...final, ...clicks]);
    await drain(learner, final.length + clicks.length);
    // The stream is 70 minutes in, yet nothing after the newest negative (20 min) is learned.
    expect(learner.stats().examples).toBeLessThanOrEqual(final.length);
    expect(learner.stats().examples).toBeGreaterThanOrEqual(final.length - 10);

    // The watermark moves to 35 minutes: the negatives of [20, 35) arrive and release that span.
    const negatives = all.filter((e) => isLate(e) && e.ts < T0 + 35 * MIN && e.label === 0);
    await appendEvents(log, TOPICS.examples, negatives);
    await drain(learner, final.length + clicks.length + negatives.length);
    const released = all.filter((e) => e.ts < T0 + 35 * MIN).length;
    expect(learner.stats().examples).toBeGreaterThanOrEqual(released - 10);
    expect(learner.stats().examples).toBeLessThanOrEqual(released);
  });

  it('learns on arrival without holdMs', async () => {
    learner = await ContinuousLearner.create({ log, registry, modelName: 'ctr', kind: 'ftrl', params: { bits: 16 }, everyExamples: 1_000_000, pollMax: 100, pollWaitMs: 10 });
    await appendEvents(log, TOPICS.examples, syntheticExamples({ n: 300, from: T0, to: T0 + 60 * MIN }));
    await drain(learner, 300);
    expect(learner.stats()).toMatchObject({ examples: 300, held: 0 });
  });
});
