import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PctrError, loadConfig } from '../core/index.ts';
import { createEventLog, type AppendRecord, type EventLog } from '../events/index.ts';
import { tempDir } from '../../test/helpers/services.ts';
import { PredictionLogger, type EventSink } from './prediction-logger.ts';
import { readTopic, waitFor } from './testing/gateway-fixture.ts';

let dir: { dir: string; remove: () => void };
let log: EventLog;

beforeEach(async () => {
  dir = tempDir('predlog');
  log = await createEventLog(loadConfig({ env: {}, overrides: { 'events.url': `file:${dir.dir}`, 'events.partitions': 2 } }).events);
});

afterEach(async () => {
  await log.close();
  dir.remove();
});

/** The real log behind a door: appends wait until the door opens, and each append is recorded. */
function gated(target: EventLog) {
  let open!: () => void;
  const door = new Promise<void>((r) => (open = r));
  const batches: number[] = [];
  const sink: EventSink = {
    append: async (topic: string, records: readonly AppendRecord[]) => {
      batches.push(records.length);
      await door;
      return target.append(topic, records);
    },
  };
  return { sink, open, batches };
}

describe('PredictionLogger', () => {
  it('appends everything enqueued, in order per topic, in batches rather than one by one', async () => {
    const counted: number[] = [];
    const logger = new PredictionLogger({ append: (t, r) => (counted.push(r.length), log.append(t, r)) }, { flushMs: 5, maxBatch: 500 });
    for (let i = 0; i < 3_000; i++) expect(logger.enqueue('impressions', 'same-key', `{"n":${i}}`)).toBe(true);
    await logger.drain();
    const records = await readTopic(log, 'impressions', 3_000);
    expect(records.map((r) => JSON.parse(r.value).n)).toEqual(Array.from({ length: 3_000 }, (_, i) => i));
    expect(counted.every((n) => n <= 500)).toBe(true);
    expect(counted.length).toBeLessThanOrEqual(10);
    expect(logger.stats()).toMatchObject({ queued: 0, appended: 3_000, dropped: 0, failures: 0 });
    await logger.close();
  });

  it('never blocks the caller: past the bound new records are dropped and counted, the rest still land', async () => {
    const g = gated(log);
    const logger = new PredictionLogger(g.sink, { flushMs: 1, maxBatch: 100, maxQueued: 250 });
    let accepted = 0;
    for (let i = 0; i < 1_000; i++) if (logger.enqueue('impressions', `k${i}`, `{"n":${i}}`)) accepted++;
    expect(accepted).toBe(250);
    expect(logger.stats()).toMatchObject({ queued: 250, dropped: 750 });
    g.open();
    await logger.drain();
    const records = await readTopic(log, 'impressions', 250);
    expect(records).toHaveLength(250);
    expect(logger.stats()).toMatchObject({ queued: 0, appended: 250, dropped: 750 });
    await logger.close();
  });

  it('retries a failed append with the same records in the same order', async () => {
    let failuresLeft = 3;
    const sink: EventSink = {
      append: async (topic, records) => {
        if (failuresLeft-- > 0) throw new PctrError('PCTR_BACKEND_UNAVAILABLE', 'event log is down for this test');
        return log.append(topic, records);
      },
    };
    const logger = new PredictionLogger(sink, { flushMs: 1, retryMs: 5 });
    for (let i = 0; i < 50; i++) logger.enqueue('clicks-test', 'k', `{"n":${i}}`);
    await waitFor('the retried batch to land', () => logger.stats().appended === 50);
    const records = await readTopic(log, 'clicks-test', 50);
    expect(records.map((r) => JSON.parse(r.value).n)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(logger.stats()).toMatchObject({ failures: 3, dropped: 0 });
    expect(logger.stats().lastError?.message).toContain('down for this test');
    await logger.close();
  });

  it('drops (and counts) a batch the log refuses as invalid instead of retrying it forever', async () => {
    const logger = new PredictionLogger(log, { flushMs: 1 });
    logger.enqueue('not a topic name!', 'k', '{}');
    logger.enqueue('impressions', 'k', '{"ok":true}');
    await logger.drain();
    expect(logger.stats()).toMatchObject({ appended: 1, dropped: 1, failures: 1 });
    expect(logger.stats().lastError?.message).toMatch(/not a valid name/);
    await logger.close();
  });

  it('close() appends what is queued, then refuses new records', async () => {
    const logger = new PredictionLogger(log, { flushMs: 10_000 });
    for (let i = 0; i < 20; i++) logger.enqueue('impressions', `k${i}`, `{"n":${i}}`);
    await logger.close();
    expect(logger.stats()).toMatchObject({ appended: 20, queued: 0 });
    expect(logger.enqueue('impressions', 'late', '{}')).toBe(false);
    expect(await readTopic(log, 'impressions', 20)).toHaveLength(20);
  });
});
