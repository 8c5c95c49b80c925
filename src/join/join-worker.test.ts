import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { partitionOf, type Impression } from '../core/index.ts';
import { appendEvents, createEventLog, type EventLog, type LogRecord } from '../events/index.ts';
import { tempDir } from '../../test/helpers/services.ts';
import { JoinWorker, type JoinWorkerOptions } from './index.ts';

const PARTITIONS = 2;
const WINDOW = { attributionWindowMs: 60_000, maxOutOfOrdernessMs: 1000, lateClickHorizonMs: 60_000 };

function impression(impressionId: string, ts: number): Impression {
  return {
    type: 'impression',
    impressionId,
    requestId: `r-${impressionId}`,
    ts,
    userId: 'u1',
    adId: 'a1',
    campaignId: 'c1',
    bid: 1,
    position: 0,
    pCTR: 0.05,
    modelVersion: 'ctr@1',
    features: { user_id: 'u1', ad_id: 'a1' },
  };
}

/** `count` impression ids that all land in `partition`. */
function idsIn(partition: number, count: number, tag: string): string[] {
  const out: string[] = [];
  for (let i = 0; out.length < count; i++) if (partitionOf(`${tag}${i}`, PARTITIONS) === partition) out.push(`${tag}${i}`);
  return out;
}

async function readAll(log: EventLog, topic: string, expected: number): Promise<LogRecord[]> {
  const consumer = log.subscribe(topic, `check-${Math.random().toString(36).slice(2)}`, { from: 'earliest' });
  const out: LogRecord[] = [];
  try {
    for (let empty = 0; out.length < expected || empty < 1; ) {
      const b = await consumer.poll(10_000, 100);
      out.push(...b.records);
      empty = b.records.length === 0 ? empty + 1 : 0;
      if (empty > 3) break;
    }
  } finally {
    await consumer.close();
  }
  return out;
}

describe('JoinWorker on the file log', () => {
  let dir: ReturnType<typeof tempDir>;
  let log: EventLog;
  const opts = (extra: Partial<JoinWorkerOptions> = {}): JoinWorkerOptions => ({
    ...WINDOW,
    partitions: [0, 1],
    checkpointIntervalMs: 50,
    idleTimeoutMs: 200,
    ...extra,
  });

  beforeEach(async () => {
    dir = tempDir('join-worker');
    log = await createEventLog({
      url: `file:${dir.dir}`,
      partitions: PARTITIONS,
      fsync: 'never',
      fsyncIntervalMs: 200,
      segmentBytes: 1 << 20,
      retentionBytes: 0,
      retentionMs: 0,
    });
  });

  afterEach(async () => {
    await log.close();
    dir.remove();
  });

  it('labels a finished log: positives, negatives, late and unknown clicks, each once, across a restart', async () => {
    const t0 = 1_700_000_000_000;
    const ids = [...idsIn(0, 3, 'a'), ...idsIn(1, 3, 'b')];
    await appendEvents(log, 'impressions', ids.map((id, i) => impression(id, t0 + i * 1000)));
    await appendEvents(log, 'clicks', [
      { type: 'click', impressionId: ids[0], ts: t0 + 5000 },
      { type: 'click', impressionId: ids[0], ts: t0 + 6000 },
      { type: 'click', impressionId: ids[4], ts: t0 + 4000 + 120_000 },
      { type: 'click', impressionId: 'nobody', ts: t0 + 7000 },
    ]);

    // Idleness (wall time) must not move the watermark here: only the events do.
    const noIdle = { idleTimeoutMs: 600_000 };
    const first = await JoinWorker.open(log, opts(noIdle));
    const s1 = await first.run({ untilCaughtUp: true });
    await first.close();
    expect(s1).toMatchObject({ impressions: 6, clicks: 4, positives: 1, duplicateClicks: 1, lateClicks: 1 });
    expect(s1.pending).toBe(6);

    // The second worker restores the first's state, reads two more impressions and drains the finished log.
    const more = [idsIn(0, 4, 'a')[3], idsIn(1, 4, 'b')[3]];
    await appendEvents(log, 'impressions', more.map((id) => impression(id, t0 + 600_000)));
    const second = await JoinWorker.open(log, opts(noIdle));
    expect(second.stats().replayedImpressions).toBe(6);
    const s2 = await second.run({ untilCaughtUp: true, drain: true });
    await second.close();
    expect(s2).toMatchObject({ impressions: 8, positives: 1, negatives: 7, lateClicks: 1, unknownClicks: 1, pending: 0 });

    const examples = await readAll(log, 'examples', 8);
    const labels = examples.map((r) => JSON.parse(r.value) as { impressionId: string; label: number }).map((e) => `${e.impressionId}:${e.label}`);
    expect(labels.sort()).toEqual([...ids, ...more].map((id, i) => `${id}:${i === 0 ? 1 : 0}`).sort());
    for (const r of examples) expect(r.partition).toBe(partitionOf(r.key, PARTITIONS));
    const side = (await readAll(log, 'unattributed-clicks', 2)).map((r) => JSON.parse(r.value) as { impressionId: string; reason: string });
    expect(side.map((c) => `${c.impressionId}:${c.reason}`).sort()).toEqual([`${ids[4]}:late`, 'nobody:unknown'].sort());
  });

  it('sends unreadable records to its own dead-letter topic, leaving dead-letters to the edges', async () => {
    await log.append('impressions', [{ key: 'bad', value: '{"type":"impression","ts":"yesterday"}' }]);
    const worker = await JoinWorker.open(log, opts());
    const stats = await worker.run({ untilCaughtUp: true });
    await worker.close();
    expect(stats.invalid).toBe(1);
    const [letter] = await readAll(log, 'dead-letters.join', 1);
    expect(JSON.parse(letter.value)).toMatchObject({ type: 'dead-letter', topic: 'impressions', reason: 'no integer ts', value: '{"type":"impression","ts":"yesterday"}' });
    await expect(log.append('dead-letters', [{ key: 'bad', value: '{"rejected":true}' }])).resolves.toBeDefined();
  });

  it('does not let a quiet partition hold back its negatives', async () => {
    const t0 = 1_700_000_000_000;
    const [quiet] = idsIn(1, 1, 'q');
    await appendEvents(log, 'impressions', [impression(quiet, t0)]);
    // Partition 0 moves event time 200 s forward; partition 1 never hears again.
    await appendEvents(log, 'impressions', idsIn(0, 200, 'busy').map((id, i) => impression(id, t0 + i * 1000)));
    const stop = new AbortController();
    let onLabel: (value: string) => void = () => undefined;
    const labeled = new Promise<string>((resolve) => (onLabel = resolve));
    const worker = await JoinWorker.open(log, opts({ onCommit: (c) => c.examples.toArray().filter((r) => r.key === quiet).forEach((r) => onLabel(r.value)) }));
    const running = worker.run({ signal: stop.signal });
    const timeout = new Promise<string>((_, reject) => setTimeout(() => reject(new Error('the quiet partition never emitted its negative')), 10_000).unref());
    try {
      const example = JSON.parse(await Promise.race([labeled, timeout])) as { label: number };
      expect(example.label).toBe(0);
    } finally {
      stop.abort();
      await running;
      await worker.close();
    }
  });
});
