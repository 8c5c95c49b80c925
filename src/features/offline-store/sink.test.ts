import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { example } from '../../../test/helpers/labeled-examples.ts';
import { tempDir } from '../../../test/helpers/services.ts';
import { TOPICS, type FeatureSchema, type LabeledExample } from '../../core/index.ts';
import { createEventLog, type EventLog } from '../../events/index.ts';
import { partitionFiles } from './layout.ts';
import { ParquetOfflineStore } from './parquet.ts';
import { OfflineSink } from './sink.ts';

const H = 3_600_000;
const T0 = Date.parse('2024-05-01T10:00:00Z');
const IDS: FeatureSchema = { fields: [{ name: 'ad_id', kind: 'categorical' }] };

describe('OfflineSink', () => {
  const cleanups: (() => void | Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  const setup = async () => {
    const tmp = tempDir('sink');
    const log = await createEventLog({ url: `file:${join(tmp.dir, 'events')}`, partitions: 3, fsync: 'never', fsyncIntervalMs: 200, segmentBytes: 1 << 26, retentionBytes: 0, retentionMs: 0 });
    const dir = join(tmp.dir, 'offline');
    const store = new ParquetOfflineStore({ type: 'file', dir, threads: 1 });
    cleanups.push(tmp.remove, () => log.close(), () => store.close());
    return { log, store, dir };
  };
  const sink = (log: EventLog, store: ParquetOfflineStore, dir: string, maxRows = 400) => {
    const s = new OfflineSink({ log, store, dir, maxRows, pollMax: 150, pollWaitMs: 10, flushIntervalMs: 60_000 });
    cleanups.push(() => s.close());
    return s;
  };
  const append = (log: EventLog, examples: LabeledExample[]) => log.append(TOPICS.examples, examples.map((e) => ({ key: e.impressionId, value: JSON.stringify(e) })));
  /** Impression ids in the store, in read order. */
  const stored = async (store: ParquetOfflineStore): Promise<number[]> => {
    const ts: number[] = [];
    for await (const b of store.read({ from: T0 - H, to: T0 + 10 * H }, IDS)) ts.push(...b.ts!);
    return ts;
  };
  const examples = Array.from({ length: 1000 }, (_, i) => example(i, T0 + i * 9_000, i % 11 === 0 ? 1 : 0));

  it('writes every example once, in hour files named by the flush', async () => {
    const { log, store, dir } = await setup();
    await append(log, examples);
    const s = sink(log, store, dir);
    await s.start();
    await s.run({ untilIdle: true });
    expect(s.progress()).toMatchObject({ written: 1000, invalid: 0, skipped: 0, buffered: 0 });
    expect(await stored(store)).toEqual(examples.map((e) => e.ts));
    const files = partitionFiles(dir).map((f) => relative(dir, f));
    expect(files).toContain('date=2024-05-01/hour=10/offline-store-0000000001.parquet');
    expect(files.every((f) => /^date=2024-05-01\/hour=1[0-2]\/offline-store-\d{10}\.parquet$/.test(f))).toBe(true);
    // Nothing new: another run writes nothing and duplicates nothing.
    const again = sink(log, store, dir);
    await again.start();
    await again.run({ untilIdle: true });
    expect(again.progress().written).toBe(0);
    expect((await store.stats({ from: T0 - H, to: T0 + 10 * H })).rows).toBe(1000);
  });

  it('after a crash mid-flush, removes the unfinished flush and writes each example exactly once', async () => {
    const { log, store, dir } = await setup();
    await append(log, examples.slice(0, 600));
    const first = sink(log, store, dir);
    await first.start();
    await first.run({ untilIdle: true });
    await append(log, examples.slice(600));
    // The next flush wrote some hour files, then the process died before recording the flush.
    await store.writeExamples(examples.slice(600, 700), `${first.id}-0000000099`);
    await store.writeExamples(examples.slice(600, 650), `${first.id}-${String(first.progress().flushes + 1).padStart(10, '0')}`);
    await first.close();
    const second = sink(log, store, dir);
    await second.start();
    await second.run({ untilIdle: true });
    expect(await stored(store)).toEqual(examples.map((e) => e.ts));
  });

  it('skips invalid records, counting them, and keeps going', async () => {
    const { log, store, dir } = await setup();
    await append(log, examples.slice(0, 50));
    await log.append(TOPICS.examples, [
      { key: 'x', value: 'not json' },
      { key: 'y', value: JSON.stringify({ ...examples[0], label: 3 }) },
    ]);
    await append(log, examples.slice(50, 100));
    const s = sink(log, store, dir);
    await s.start();
    await s.run({ untilIdle: true });
    expect(s.progress()).toMatchObject({ written: 100, invalid: 2 });
    expect(await stored(store)).toEqual(examples.slice(0, 100).map((e) => e.ts));
    expect(readdirSync(join(dir, '_tmp'))).toEqual([]);
    expect(readdirSync(join(dir, '_sink'))).toEqual([`${s.id}.json`]);
  });
});
