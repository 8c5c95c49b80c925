/**
 * The EventLog contract suite, run against every backend (file, redis) with real storage. A harness
 * opens logs over one storage area (a directory, a key prefix) so a test can close a log and open
 * it again, as a restarted process would.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isPctrError, loadConfig, partitionOf } from '../../src/core/index.ts';
import type { AppendRecord, Batch, Consumer, EventLog, EventsSettings, LogRecord, TransactionalConsumer } from '../../src/events/index.ts';
import { redisUrl } from '../helpers/services.ts';

export interface EventLogHarness {
  open(overrides?: Partial<EventsSettings>): Promise<EventLog>;
  cleanup(): Promise<void>;
}

const PARTITIONS = 4;

/** Event settings (defaults, not the environment) for a file log in `dir`. */
export function fileSettings(dir: string, overrides: Partial<EventsSettings> = {}): EventsSettings {
  return { ...loadConfig({ env: {} }).events, url: `file:${dir}`, fsyncIntervalMs: 50, ...overrides };
}

/** Event settings for a redis log under `prefix`. */
export function redisSettings(prefix: string, overrides: Partial<EventsSettings> = {}, url = redisUrl()): EventsSettings {
  return { ...loadConfig({ env: {} }).events, url: `${url}?prefix=${prefix}`, ...overrides };
}

/** A key that lands in `partition` (keys are tried in order: `${tag}-0`, `${tag}-1`, …). */
export function keyIn(partition: number, tag: string, partitions = PARTITIONS): string {
  for (let i = 0; ; i++) {
    const k = `${tag}-${i}`;
    if (partitionOf(k, partitions) === partition) return k;
  }
}

function records(n: number, tag = 'r', keys = n): AppendRecord[] {
  return Array.from({ length: n }, (_, i) => ({ key: `${tag}${i % keys}`, value: JSON.stringify({ i, tag }) }));
}

/** Poll until `n` records arrived (or fail after `timeoutMs`). */
async function pollN(c: Pick<Consumer, 'poll'>, n: number, timeoutMs = 10_000): Promise<{ records: LogRecord[]; batches: Batch[] }> {
  const out: LogRecord[] = [];
  const batches: Batch[] = [];
  const until = Date.now() + timeoutMs;
  while (out.length < n) {
    if (Date.now() > until) throw new Error(`only ${out.length} of ${n} records arrived within ${timeoutMs} ms`);
    const b = await c.poll(n - out.length, 200);
    if (b.records.length > 0) batches.push(b);
    out.push(...b.records);
  }
  return { records: out, batches };
}

/** Offsets to resume from after all of `batches`, merged per partition. */
function mergeNext(batches: readonly Batch[], topic?: string): Map<number, number> {
  const m = new Map<number, number>();
  for (const b of batches) for (const [p, o] of topic ? (b.nextOffsetsByTopic.get(topic) ?? []) : b.nextOffsets) m.set(p, Math.max(m.get(p) ?? 0, o));
  return m;
}

function byPartition(recs: readonly LogRecord[]): Map<number, LogRecord[]> {
  const m = new Map<number, LogRecord[]>();
  for (const r of recs) {
    let l = m.get(r.partition);
    if (!l) m.set(r.partition, (l = []));
    l.push(r);
  }
  return m;
}

export function eventLogContract(name: string, makeHarness: () => Promise<EventLogHarness>): void {
  describe(`EventLog contract: ${name}`, () => {
    let h: EventLogHarness;
    let log: EventLog;
    const open: EventLog[] = [];
    const reopen = async (): Promise<EventLog> => {
      await log.close();
      log = await h.open({ partitions: PARTITIONS });
      open.push(log);
      return log;
    };

    beforeEach(async () => {
      h = await makeHarness();
      log = await h.open({ partitions: PARTITIONS });
      open.push(log);
    });

    afterEach(async () => {
      for (const l of open.splice(0)) await l.close();
      await h.cleanup();
    });

    it('partitions by key and keeps append order within a partition', async () => {
      const recs = records(400, 'k', 37);
      const ack = await log.append('t', recs);
      expect(ack.offsets).toHaveLength(400);
      const lastInPartition = new Map<number, number>();
      ack.offsets.forEach((o, i) => {
        expect(o.partition).toBe(partitionOf(recs[i].key, PARTITIONS));
        expect(o.offset).toBeGreaterThan(lastInPartition.get(o.partition) ?? -1);
        lastInPartition.set(o.partition, o.offset);
      });
      const c = log.subscribe('t', 'g');
      const { records: got } = await pollN(c, 400);
      for (const [p, list] of byPartition(got)) {
        const expected = recs.map((r, i) => ({ r, o: ack.offsets[i] })).filter((x) => x.o.partition === p);
        expect(list.map((r) => [r.offset, r.key, r.value])).toEqual(expected.map((x) => [x.o.offset, x.r.key, x.r.value]));
        for (const r of list) expect(r.topic).toBe('t');
      }
    });

    it('puts an impression and its clicks in the same partition', async () => {
      const ack = await log.append('impressions', [{ key: 'imp-42', value: 'i' }]);
      const ack2 = await log.append('clicks', [
        { key: 'imp-42', value: 'c1' },
        { key: 'imp-42', value: 'c2' },
      ]);
      expect(ack2.offsets.map((o) => o.partition)).toEqual([ack.offsets[0].partition, ack.offsets[0].partition]);
    });

    it('resumes a group after its commit', async () => {
      await log.append('t', records(100));
      const c1 = log.subscribe('t', 'g');
      const first = await pollN(c1, 40);
      await c1.commit({ records: first.records, nextOffsets: mergeNext(first.batches), nextOffsetsByTopic: new Map() });
      await c1.close();
      const c2 = log.subscribe('t', 'g');
      const rest = await pollN(c2, 60);
      const seen = new Set([...first.records, ...rest.records].map((r) => r.value));
      expect(seen.size).toBe(100);
      expect(await c2.poll(10, 50)).toMatchObject({ records: [] });
    });

    it('redelivers uncommitted records after a reopen', async () => {
      await log.append('t', records(50));
      const c1 = log.subscribe('t', 'g');
      const b1 = await c1.poll(20, 1000);
      await c1.commit(b1);
      const rest = await pollN(c1, 50 - b1.records.length);
      await reopen();
      const c2 = log.subscribe('t', 'g');
      const again = await pollN(c2, rest.records.length);
      const key = (r: LogRecord) => `${r.partition}/${r.offset}/${r.value}`;
      expect(again.records.map(key).sort()).toEqual(rest.records.map(key).sort());
      expect((await c2.poll(10, 50)).records).toEqual([]);
    });

    it('splits partitions between two consumers of one group', async () => {
      await log.append('t', records(400, 's', 101));
      const a = log.subscribe('t', 'g', { partitions: [0, 1] });
      const b = log.subscribe('t', 'g', { partitions: [2, 3] });
      const ends = await log.endOffsets('t');
      const want = (ps: number[]) => ps.reduce((s, p) => s + ends[p], 0);
      const ra = await pollN(a, want([0, 1]));
      const rb = await pollN(b, want([2, 3]));
      expect(new Set(ra.records.map((r) => r.partition))).toEqual(new Set([0, 1].filter((p) => ends[p] > 0)));
      expect(new Set(rb.records.map((r) => r.partition))).toEqual(new Set([2, 3].filter((p) => ends[p] > 0)));
      expect(ra.records.length + rb.records.length).toBe(400);
      await a.commit({ records: [], nextOffsets: mergeNext(ra.batches), nextOffsetsByTopic: new Map() });
      await b.commit({ records: [], nextOffsets: mergeNext(rb.batches), nextOffsetsByTopic: new Map() });
      expect(await log.committedOffsets('t', 'g')).toEqual(ends.map((e) => (e > 0 ? e : -1)));
    });

    it('starts a new group at the end with from: latest', async () => {
      await log.append('t', records(10, 'old'));
      const c = log.subscribe('t', 'fresh', { from: 'latest' });
      await log.append('t', records(5, 'new'));
      const { records: got } = await pollN(c, 5);
      expect(got.every((r) => r.key.startsWith('new'))).toBe(true);
      expect((await c.poll(10, 50)).records).toEqual([]);
    });

    it('returns an empty batch when nothing arrives within waitMs', async () => {
      const c = log.subscribe('quiet', 'g');
      const t0 = Date.now();
      const b = await c.poll(10, 150);
      const took = Date.now() - t0;
      expect(b.records).toEqual([]);
      expect(took).toBeGreaterThanOrEqual(120);
      expect(took).toBeLessThan(1500);
    });

    it('wakes a waiting poll when records are appended', async () => {
      const c = log.subscribe('t', 'g');
      await c.poll(1, 0);
      const t0 = Date.now();
      const polled = c.poll(10, 10_000);
      await log.append('t', [{ key: 'x', value: 'v' }]);
      const b = await polled;
      expect(b.records.map((r) => r.value)).toEqual(['v']);
      expect(Date.now() - t0).toBeLessThan(3000);
    });

    it('reports end offsets and committed offsets', async () => {
      expect(await log.endOffsets('t')).toEqual([0, 0, 0, 0]);
      expect(await log.committedOffsets('t', 'g')).toEqual([-1, -1, -1, -1]);
      const ack = await log.append('t', records(30));
      const ends = await log.endOffsets('t');
      for (let p = 0; p < PARTITIONS; p++) {
        const mine = ack.offsets.filter((o) => o.partition === p).map((o) => o.offset);
        expect(ends[p]).toBe(mine.length ? Math.max(...mine) + 1 : 0);
      }
      const c = log.subscribe('t', 'g', { partitions: [0, 1, 2, 3] });
      const got = await pollN(c, 30);
      const next = mergeNext(got.batches);
      await c.commit({ records: [], nextOffsets: next, nextOffsetsByTopic: new Map() });
      expect(await log.committedOffsets('t', 'g')).toEqual([0, 1, 2, 3].map((p) => next.get(p) ?? -1));
    });

    it('appends and delivers a batch of 100k records', async () => {
      const n = 100_000;
      const pad = 'x'.repeat(360);
      const recs = Array.from({ length: n }, (_, i) => ({ key: `imp${i}`, value: `{"i":${i},"pad":"${pad}"}` }));
      const ack = await log.append('big', recs);
      expect(ack.offsets).toHaveLength(n);
      const c = log.subscribe('big', 'g');
      const seen = new Uint8Array(n);
      let count = 0;
      while (count < n) {
        const b = await c.poll(20_000, 1000);
        expect(b.records.length).toBeGreaterThan(0);
        for (const r of b.records) {
          const i = Number(r.key.slice(3));
          expect(seen[i]).toBe(0);
          seen[i] = 1;
          if (i % 997 === 0) expect(r.value).toBe(recs[i].value);
        }
        count += b.records.length;
      }
      expect(count).toBe(n);
    });

    it('refuses to reopen with another partition count', async () => {
      await log.append('t', records(3));
      const err = await h.open({ partitions: PARTITIONS * 2 }).then(
        (l) => {
          open.push(l);
          return null;
        },
        (e: unknown) => e,
      );
      expect(isPctrError(err, 'PCTR_CONFIG_INVALID')).toBe(true);
      expect((err as Error).message).toMatch(/created with 4 partitions per topic but events.partitions is 8/);
    });

    describe('transactional', () => {
      const outputsOf = (b: Batch): AppendRecord[] => b.records.map((r) => ({ key: r.key, value: `out:${r.value}` }));
      const stateOf = (b: Batch, tag: string): Map<number, string> => new Map([...b.nextOffsets].map(([p, o]) => [p, `${tag}@${o}`]));

      it('hides outputs until the commit, then shows all of them', async () => {
        await log.append('in', records(100));
        const reader = log.subscribe('out', 'reader');
        const tx = log.transactional('in', 'job', { partitions: [0, 1, 2, 3] });
        await tx.restore();
        const { records: input, batches } = await pollN(tx, 100);
        expect((await reader.poll(100, 50)).records).toEqual([]);
        await tx.commit({ offsets: mergeNext(batches), outputs: [{ topic: 'out', records: input.map((r) => ({ key: r.key, value: `out:${r.value}` })) }], state: new Map([[0, 'S']]) });
        const { records: out } = await pollN(reader, 100);
        expect(out.map((r) => r.value).sort()).toEqual(input.map((r) => `out:${r.value}`).sort());
        for (const r of out) expect(r.partition).toBe(partitionOf(r.key, PARTITIONS));
      });

      it('restores the last checkpoint after an uncommitted transaction, with nothing of it visible', async () => {
        await log.append('in', records(60));
        const tx1 = log.transactional('in', 'job', { partitions: [0, 1, 2, 3] });
        const empty = await tx1.restore();
        expect([...empty.state.values()]).toEqual([null, null, null, null]);
        const b1 = await tx1.poll(25, 1000);
        await tx1.commit({ offsets: b1.nextOffsets, outputs: [{ topic: 'out', records: outputsOf(b1) }], state: stateOf(b1, 's1') });
        const b2 = await pollN(tx1, 60 - b1.records.length);
        expect(b2.records.length).toBeGreaterThan(0);
        await tx1.close();
        await reopen();

        const tx2 = log.transactional('in', 'job', { partitions: [0, 1, 2, 3] });
        const cp = await tx2.restore();
        for (const [p, o] of b1.nextOffsets) {
          expect(cp.offsets.get(p)).toBe(o);
          expect(cp.state.get(p)).toBe(`s1@${o}`);
          expect(cp.offsetsByTopic.get('in')?.get(p)).toBe(o);
        }
        const reader = log.subscribe('out', 'reader');
        const { records: visible } = await pollN(reader, b1.records.length);
        expect(visible.map((r) => r.value).sort()).toEqual(outputsOf(b1).map((r) => r.value).sort());
        expect((await reader.poll(100, 50)).records).toEqual([]);
        const again = await pollN(tx2, 60 - b1.records.length);
        expect(again.records.map((r) => r.value).sort()).toEqual(b2.records.map((r) => r.value).sort());
      });

      it('replays committed input of a partition in pages', async () => {
        const ack = await log.append('in', records(80, 'rp', 80));
        const tx = log.transactional('in', 'job', { partitions: [0, 1, 2, 3] });
        await tx.restore();
        const { batches } = await pollN(tx, 80);
        const next = mergeNext(batches);
        await tx.commit({ offsets: next, outputs: [], state: new Map() });
        const p = ack.offsets[0].partition;
        const expected = ack.offsets.map((o, i) => ({ o, i })).filter((x) => x.o.partition === p).map((x) => `rp${x.i}`);
        const replayed: string[] = [];
        let from = 0;
        for (;;) {
          const page = await tx.replay(p, from, next.get(p) ?? 0, 7);
          if (page.length === 0) break;
          expect(page.length).toBeLessThanOrEqual(7);
          replayed.push(...page.map((r) => r.key));
          from = page[page.length - 1].offset + 1;
        }
        expect(replayed).toEqual(expected);
        const middle = await tx.replay(p, 2, 4, 100);
        expect(middle.map((r) => r.offset)).toEqual([2, 3]);
      });

      it('reads several input topics and commits their offsets together', async () => {
        const p = 2;
        await log.append('imps', [0, 1, 2].map((i) => ({ key: keyIn(p, `i${i}`), value: `imp${i}` })));
        await log.append('clks', [0, 1].map((i) => ({ key: keyIn(p, `i${i}`), value: `clk${i}` })));
        const tx = log.transactional(['imps', 'clks'], 'join', { partitions: [p] });
        await tx.restore();
        const { records: got, batches } = await pollN(tx, 5);
        expect(got.map((r) => `${r.topic}:${r.value}`).sort()).toEqual(['clks:clk0', 'clks:clk1', 'imps:imp0', 'imps:imp1', 'imps:imp2']);
        const byTopic = new Map([
          ['imps', mergeNext(batches, 'imps')],
          ['clks', mergeNext(batches, 'clks')],
        ]);
        expect(byTopic.get('imps')?.get(p)).toBe(3);
        expect(byTopic.get('clks')?.get(p)).toBe(2);
        await tx.commit({ offsets: new Map(), offsetsByTopic: byTopic, outputs: [], state: new Map([[p, 'joined']]) });
        expect((await tx.replay(p, 0, 2, 10, 'clks')).map((r) => r.value)).toEqual(['clk0', 'clk1']);
        await tx.close();
        const tx2 = log.transactional(['imps', 'clks'], 'join', { partitions: [p] });
        const cp = await tx2.restore();
        expect(cp.offsets.get(p)).toBe(3);
        expect(cp.offsetsByTopic.get('clks')?.get(p)).toBe(2);
        expect(cp.state.get(p)).toBe('joined');
        expect((await tx2.poll(10, 50)).records).toEqual([]);
        expect(await log.committedOffsets('clks', 'join')).toEqual([-1, -1, 2, -1]);
      });

      it('rejects output keyed into a partition it does not own, committing nothing', async () => {
        const tx = log.transactional('in', 'job', { partitions: [0] });
        await tx.restore();
        const outputs = [
          { topic: 'out', records: [{ key: keyIn(0, 'a'), value: 'refused-a' }] },
          { topic: 'side', records: [{ key: keyIn(0, 'b'), value: 'refused-b' }, { key: keyIn(1, 'c'), value: 'foreign' }] },
        ];
        const err = await tx.commit({ offsets: new Map(), outputs, state: new Map([[0, 'x']]) }).catch((e: unknown) => e);
        expect(isPctrError(err, 'PCTR_VALIDATION')).toBe(true);
        expect((err as Error).message).toMatch(/partition 1/);
        expect(await log.endOffsets('out')).toEqual([0, 0, 0, 0]);
        await tx.commit({ offsets: new Map(), outputs: [{ topic: 'out', records: [{ key: keyIn(0, 'd'), value: 'accepted' }] }], state: new Map() });
        const { records: out } = await pollN(log.subscribe('out', 'reader'), 1);
        expect(out.map((r) => r.value)).toEqual(['accepted']);
        await tx.close();
        const cp = await log.transactional('in', 'job', { partitions: [0] }).restore();
        expect(cp.state.get(0)).toBeNull();
      });

      it('lets only one live instance of an id commit', async () => {
        const first: TransactionalConsumer = log.transactional('in', 'job', { partitions: [0] });
        await first.restore();
        const second = log.transactional('in', 'job', { partitions: [0] });
        const restored = await second.restore().then(
          () => true,
          (e: unknown) => {
            expect(isPctrError(e, 'PCTR_CONFLICT')).toBe(true);
            return false;
          },
        );
        const commit = (c: TransactionalConsumer) => c.commit({ offsets: new Map(), outputs: [], state: new Map([[0, 'x']]) }).then(() => 'ok', (e: unknown) => (isPctrError(e, 'PCTR_CONFLICT') ? 'conflict' : String(e)));
        const results = [await commit(first), restored ? await commit(second) : 'conflict'];
        expect(results.filter((r) => r === 'ok')).toHaveLength(1);
        expect(results.filter((r) => r === 'conflict')).toHaveLength(1);
      });
    });
  });
}
