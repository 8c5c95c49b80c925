import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dropRedisPrefix, redisUrl, tempDir, uniqueName } from '../../../test/helpers/services.ts';
import { appendStream, exampleJson, expectStoreMatches, impressionJson, makeStream } from '../../../test/helpers/aggregate-stream.ts';
import { TOPICS } from '../../core/index.ts';
import { createEventLog, type EventLog } from '../../events/index.ts';
import { ENTITY_TYPES } from '../definitions.ts';
import { MemoryOnlineStore } from '../online-store/memory.ts';
import type { OnlineStore } from '../online-store/online-store.ts';
import { AggregateRunner } from './aggregate-runner.ts';

describe.each(['file', 'redis'] as const)('AggregateRunner on the %s event log', (backend) => {
  const cleanups: (() => void | Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  const setup = async () => {
    const tmp = tempDir('agg');
    const prefix = uniqueName('agg');
    const url = backend === 'file' ? `file:${join(tmp.dir, 'events')}` : `${redisUrl()}?prefix=${prefix}`;
    const log = await createEventLog({ url, partitions: 4, fsync: 'never', fsyncIntervalMs: 200, segmentBytes: 1 << 26, retentionBytes: 0, retentionMs: 0 });
    cleanups.push(tmp.remove, () => dropRedisPrefix(prefix), () => log.close());
    return { log, dir: tmp.dir };
  };
  const runner = (log: EventLog, store: OnlineStore, extra: Partial<ConstructorParameters<typeof AggregateRunner>[0]> = {}) => {
    const r = new AggregateRunner({ log, store, pollMax: 500, pollWaitMs: 20, flushEvents: 700, ...extra });
    cleanups.push(() => r.close());
    return r;
  };

  it('keeps the online store equal to the windowed counts of the stream', async () => {
    const { log } = await setup();
    const events = makeStream(6000);
    await appendStream(log, events);
    const store = new MemoryOnlineStore();
    const r = runner(log, store);
    await r.start();
    await r.run({ untilIdle: true });
    const p = r.progress();
    expect(p.impressions).toBe(6000);
    expect(p.clicks).toBe(events.filter((e) => e.clickTs !== null).length);
    expect(p.invalid).toBe(0);
    expect(p.flushes).toBeGreaterThan(3);
    for (const e of ENTITY_TYPES) expect(Array.from(r.aggregator.counters[e].late)).toEqual([0, 0]);
    await expectStoreMatches(store, events);
  });

  it('restarts exactly from its state file: events after the checkpoint are neither lost nor counted twice', async () => {
    const { log, dir } = await setup();
    const events = makeStream(6000, 7);
    const stateFile = join(dir, 'aggregate', 'state.bin');
    await appendStream(log, events.slice(0, 3000));
    const store = new MemoryOnlineStore();
    const first = runner(log, store, { stateFile, checkpointIntervalMs: 60_000 });
    await first.start();
    await first.run({ untilIdle: true });
    // More input; the process flushes to the store a few times, then dies before its next checkpoint.
    await appendStream(log, events.slice(3000));
    for (let i = 0; i < 4; i++) await first.step();
    await first.flush();
    await first.close();
    const second = runner(log, store, { stateFile });
    await second.start();
    await second.run({ untilIdle: true });
    expect(second.progress().impressions).toBe(6000);
    await expectStoreMatches(store, events);
    // A consumer group with no committed offsets re-reads everything, and the state's offsets skip it.
    const third = runner(log, new MemoryOnlineStore(), { stateFile, group: 'aggregate-replay' });
    await third.start();
    await third.run({ untilIdle: true });
    expect(third.progress().skipped).toBe(12_000);
    expect(third.progress().impressions).toBe(6000);
  });

  it('holds impressions back while the examples stream lags far behind in event time', async () => {
    const { log } = await setup();
    // 3 h of impressions; the examples topic is 20× denser (filler records between examples), so
    // reading both at the same record rate would put impressions hours ahead and drop late clicks.
    const events = makeStream(1500, 5).map((e, i) => ({ ...e, ts: e.ts + i * 6000, clickTs: e.clickTs === null ? null : e.clickTs + i * 6000 }));
    await log.append(TOPICS.impressions, events.map((e) => ({ key: e.impressionId, value: impressionJson(e) })));
    const emitted = events.map((e) => ({ at: e.clickTs ?? e.ts + 30 * 60_000, e })).sort((a, b) => a.at - b.at);
    await log.append(TOPICS.examples, emitted.flatMap(({ e }) => [...Array.from({ length: 20 }, (_, k) => ({ key: `${e.impressionId}-${k}`, value: '{}' })), { key: e.impressionId, value: exampleJson(e) }]));
    const store = new MemoryOnlineStore();
    const r = runner(log, store, { pollMax: 300, maxSkewMs: 5 * 60_000 });
    await r.start();
    await r.run({ untilIdle: true });
    expect(r.progress()).toMatchObject({ impressions: 1500, invalid: 1500 * 20, late: 0 });
    await expectStoreMatches(store, events);
  });

  it('writes every restored entity again into a fresh store when asked to resync', async () => {
    const { log, dir } = await setup();
    const events = makeStream(2000, 9);
    const stateFile = join(dir, 'state.bin');
    await appendStream(log, events);
    const first = runner(log, new MemoryOnlineStore(), { stateFile });
    await first.start();
    await first.run({ untilIdle: true });
    const fresh = new MemoryOnlineStore();
    const second = runner(log, fresh, { stateFile, resync: true });
    await second.start();
    await second.run({ untilIdle: true });
    expect(second.progress().impressions).toBe(2000);
    await expectStoreMatches(fresh, events);
  });

  it('retries a failed online-store write with the next flush', async () => {
    const { log } = await setup();
    const events = makeStream(1500, 3);
    await appendStream(log, events);
    const memory = new MemoryOnlineStore();
    let failures = 2;
    const flaky: OnlineStore = {
      get: (refs) => memory.get(refs),
      put: async (rows) => {
        if (failures-- > 0) throw new Error('store down');
        await memory.put(rows);
      },
      close: () => memory.close(),
    };
    const r = runner(log, flaky);
    await r.start();
    await r.run({ untilIdle: true });
    expect(r.progress().flushErrors).toBe(2);
    // Both flushes of the run failed: the entities are still owed a write, and get it next time.
    expect(r.aggregator.pendingFlush()).toBeGreaterThan(0);
    await r.flush();
    await r.settle();
    await expectStoreMatches(memory, events);
  });
});
