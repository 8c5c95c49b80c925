import { describe, expect, it } from 'vitest';
import { LabeledExample } from '../core/index.ts';
import { parsePartitionState } from './join-state.ts';
import { JoinOutput, PartitionJoin, textRecord, type JoinRecord, type JoinWindow } from './partition-join.ts';

const W: JoinWindow = { attributionWindowMs: 1000, maxOutOfOrdernessMs: 100, lateClickHorizonMs: 1000 };
const TOPICS = { impressions: 'impressions', clicks: 'clicks' };

function imp(id: string, ts: number, offset: number): JoinRecord {
  const value = JSON.stringify({
    type: 'impression',
    impressionId: id,
    requestId: `r-${id}`,
    ts,
    userId: 'u1',
    adId: 'a1',
    campaignId: 'c1',
    bid: 1,
    position: 0,
    pCTR: 0.1,
    modelVersion: 'ctr@1',
    features: { user_id: 'u1' },
  });
  return textRecord(id, value, offset);
}

function clk(id: string, ts: number, offset: number): JoinRecord {
  return textRecord(id, JSON.stringify({ type: 'click', impressionId: id, ts }), offset);
}

function labels(out: JoinOutput): [string, number][] {
  return out.examples.toArray().map((r) => {
    const e = LabeledExample.parse(JSON.parse(r.value));
    expect(r.key).toBe(e.impressionId);
    return [e.impressionId, e.label];
  });
}

function reasons(out: JoinOutput): [string, string][] {
  return out.unattributed.toArray().map((r) => {
    const v = JSON.parse(r.value) as { impressionId: string; reason: string };
    return [v.impressionId, v.reason];
  });
}

describe('PartitionJoin', () => {
  it('emits a positive as soon as the click arrives, with the click time', () => {
    const j = new PartitionJoin(TOPICS, 0, W);
    const out = new JoinOutput();
    j.impression(imp('a', 1000, 0), out);
    expect(out.size).toBe(0);
    j.click(clk('a', 1500, 0), out);
    expect(labels(out)).toEqual([['a', 1]]);
    expect((JSON.parse(out.examples.value(0)) as { clickTs: number }).clickTs).toBe(1500);
    j.advance(10_000, out);
    expect(out.examples).toHaveLength(1);
    expect(j.counters).toMatchObject({ impressions: 1, clicks: 1, positives: 1, negatives: 0 });
  });

  it('emits a negative only once the watermark passes the window end', () => {
    const j = new PartitionJoin(TOPICS, 0, W);
    const out = new JoinOutput();
    j.impression(imp('a', 1000, 0), out);
    j.advance(2000, out);
    expect(out.size).toBe(0);
    expect(j.pending).toBe(1);
    j.advance(2001, out);
    expect(labels(out)).toEqual([['a', 0]]);
    expect(j.pending).toBe(0);
  });

  it('derives the watermark from the slower stream, ignoring idle ones', () => {
    const j = new PartitionJoin(TOPICS, 0, W);
    const out = new JoinOutput();
    j.impression(imp('a', 5000, 0), out);
    j.click(clk('x', 3000, 0), out);
    expect(j.ownWatermark({ impressionsIdle: false, clicksIdle: false })).toBe(2900);
    expect(j.ownWatermark({ impressionsIdle: false, clicksIdle: false, clickFront: 4000 })).toBe(3900);
    expect(j.ownWatermark({ impressionsIdle: false, clicksIdle: true })).toBe(4900);
    expect(j.ownWatermark({ impressionsIdle: true, clicksIdle: false })).toBe(2900);
    expect(j.ownWatermark({ impressionsIdle: true, clicksIdle: true })).toBe(4900);
  });

  it('counts duplicate clicks once', () => {
    const j = new PartitionJoin(TOPICS, 0, W);
    const out = new JoinOutput();
    j.impression(imp('a', 1000, 0), out);
    j.click(clk('a', 1100, 0), out);
    j.click(clk('a', 1200, 1), out);
    j.click(clk('a', 1300, 2), out);
    expect(labels(out)).toEqual([['a', 1]]);
    expect(j.counters.duplicateClicks).toBe(2);
    expect(out.unattributed).toHaveLength(0);
  });

  it('sends clicks after the window, and clicks arriving after the negative, to the side topic as late', () => {
    const j = new PartitionJoin(TOPICS, 0, W);
    const out = new JoinOutput();
    j.impression(imp('a', 1000, 0), out);
    j.impression(imp('b', 1000, 1), out);
    j.click(clk('a', 2001, 0), out);
    j.advance(2500, out);
    j.click(clk('b', 1900, 1), out);
    expect(labels(out)).toEqual([
      ['a', 0],
      ['b', 0],
    ]);
    expect(reasons(out)).toEqual([
      ['a', 'late'],
      ['b', 'late'],
    ]);
    expect((JSON.parse(out.unattributed.value(0)) as { impressionTs: number }).impressionTs).toBe(1000);
    expect(j.counters.lateClicks).toBe(2);
  });

  it('holds a click for an unseen impression until the watermark passes it, then reports it unknown', () => {
    const j = new PartitionJoin(TOPICS, 0, W);
    const out = new JoinOutput();
    j.click(clk('early', 1200, 0), out);
    j.click(clk('nobody', 1300, 1), out);
    expect(j.waitingClicks).toBe(2);
    j.advance(1190, out);
    j.impression(imp('early', 1150, 0), out);
    expect(labels(out)).toEqual([['early', 1]]);
    j.advance(1301, out);
    expect(reasons(out)).toEqual([['nobody', 'unknown']]);
    expect(j.waitingClicks).toBe(0);
    j.click(clk('ghost', 100, 2), out);
    expect(reasons(out)).toEqual([
      ['nobody', 'unknown'],
      ['ghost', 'unknown'],
    ]);
  });

  it('labels an impression that arrives after its window closed at once', () => {
    const j = new PartitionJoin(TOPICS, 0, W);
    const out = new JoinOutput();
    j.advance(2500, out);
    j.impression(imp('old', 1000, 0), out);
    expect(labels(out)).toEqual([['old', 0]]);
    expect(j.counters.lateImpressions).toBe(1);
    j.click(clk('old', 1500, 0), out);
    expect(reasons(out)).toEqual([['old', 'late']]);
  });

  it('ignores a repeated impression id while the first is remembered', () => {
    const j = new PartitionJoin(TOPICS, 0, W);
    const out = new JoinOutput();
    j.impression(imp('a', 1000, 0), out);
    j.impression(imp('a', 1001, 1), out);
    j.advance(5000, out);
    expect(labels(out)).toEqual([['a', 0]]);
    expect(j.counters.duplicateImpressions).toBe(1);
    j.advance(100_000, out);
    j.impression(imp('a', 200_000, 2), out);
    expect(j.pending).toBe(1);
  });

  it('tells late from unknown only within the late-click horizon', () => {
    const j = new PartitionJoin(TOPICS, 0, W);
    const out = new JoinOutput();
    j.impression(imp('a', 1000, 0), out);
    j.advance(2900, out);
    j.click(clk('a', 2800, 0), out);
    j.click(clk('a', 3050, 1), out);
    j.advance(3100, out);
    j.click(clk('a', 3060, 2), out);
    expect(reasons(out)).toEqual([
      ['a', 'late'],
      ['a', 'unknown'],
      ['a', 'unknown'],
    ]);
  });

  it('sends unreadable records to the dead-letter topic and goes on', () => {
    const j = new PartitionJoin(TOPICS, 3, W);
    const out = new JoinOutput();
    j.impression(textRecord('x', '{"type":"impression","ts":"soon"}', 7), out);
    j.impression(textRecord('y', '{"type":"click","impressionId":"y","ts":5}', 8), out);
    j.click(textRecord('z', 'garbage', 4), out);
    j.impression(imp('a', 1000, 9), out);
    expect(out.deadLetters.toArray().map((r) => JSON.parse(r.value) as Record<string, unknown>)).toMatchObject([
      { topic: 'impressions', partition: 3, offset: 7, reason: 'no integer ts' },
      { topic: 'impressions', offset: 8, reason: 'not an impression' },
      { topic: 'clicks', offset: 4, value: 'garbage' },
    ]);
    expect(j.counters.invalid).toBe(3);
    expect(j.pending).toBe(1);
  });

  it('with validation, sends records that break the event schemas to the dead-letter topic', () => {
    const strict = new PartitionJoin(TOPICS, 0, W, null, { validate: true });
    const lax = new PartitionJoin(TOPICS, 0, W);
    const out = new JoinOutput();
    const a = imp('a', 1000, 0);
    const badBid = textRecord('a', a.bytes.toString().replace('"bid":1', '"bid":-1'), 0);
    const wrongKey = { ...imp('b', 1000, 1), key: 'other' };
    for (const j of [strict, lax]) {
      j.impression(badBid, out);
      j.impression(wrongKey, out);
      j.impression(imp('c', 1000, 2), out);
      j.click(textRecord('c', '{"type":"click","impressionId":"c","ts":1100,"extra":1}', 0), out);
    }
    expect(out.deadLetters.toArray().map((r) => (JSON.parse(r.value) as { reason: string }).reason)).toEqual([
      expect.stringContaining('bid'),
      expect.stringContaining('is not its impressionId'),
      expect.stringContaining('extra'),
    ]);
    expect(strict.pending).toBe(1);
    expect(lax.pending).toBe(3);
    expect(labels(out)).toEqual([['c', 1]]);
  });

  it('drains: every pending impression gets its label and waiting clicks become unknown', () => {
    const j = new PartitionJoin(TOPICS, 0, W);
    const out = new JoinOutput();
    j.impression(imp('a', 1000, 0), out);
    j.impression(imp('b', 1100, 1), out);
    j.click(clk('b', 1200, 0), out);
    j.click(clk('c', 1300, 1), out);
    j.drain(out);
    expect(labels(out).sort()).toEqual([
      ['a', 0],
      ['b', 1],
    ]);
    expect(reasons(out)).toEqual([['c', 'unknown']]);
    expect(j.pending).toBe(0);
  });
});

/** A seeded stream of impressions and clicks in event-time order (mulberry32). */
function syntheticStream(seed: number, n: number) {
  let s = seed >>> 0;
  const rand = () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const events: { topic: 'imp' | 'click'; id: string; ts: number }[] = [];
  let ts = 0;
  for (let i = 0; i < n; i++) {
    ts += Math.floor(rand() * 20);
    const id = `i${i}`;
    events.push({ topic: 'imp', id, ts });
    if (rand() < 0.2) {
      const delay = Math.floor(rand() * 1400);
      events.push({ topic: 'click', id, ts: ts + delay });
      if (rand() < 0.2) events.push({ topic: 'click', id, ts: ts + delay + Math.floor(rand() * 300) });
    }
    if (rand() < 0.02) events.push({ topic: 'click', id: `ghost${i}`, ts: ts + 5 });
    if (rand() < 0.01) events.push({ topic: 'imp', id: `i${Math.max(0, i - 3)}`, ts });
  }
  events.sort((a, b) => a.ts - b.ts || (a.topic === 'imp' ? -1 : 1));
  let io = 0;
  let co = 0;
  return events.map((e) => ({ topic: e.topic, rec: e.topic === 'imp' ? imp(e.id, e.ts, io++) : clk(e.id, e.ts, co++) }));
}

function feed(j: PartitionJoin, stream: ReturnType<typeof syntheticStream>, from: number, to: number, out: JoinOutput): void {
  for (let i = from; i < to; i++) {
    const { topic, rec } = stream[i];
    if (topic === 'imp') {
      if (rec.offset < j.impressionOffset) continue;
      j.impression(rec, out);
    } else {
      if (rec.offset < j.clickOffset) continue;
      j.click(rec, out);
    }
    j.advance(j.ownWatermark({ impressionsIdle: false, clicksIdle: false }), out);
  }
}

function outputs(out: JoinOutput): string[] {
  return [...out.examples.toArray(), ...out.unattributed.toArray(), ...out.deadLetters.toArray()].map((r) => r.value).sort();
}

describe('PartitionJoin checkpoint and restore', () => {
  it('gives the same outputs, each once, when restarted from checkpoints at random points', () => {
    const stream = syntheticStream(7, 20_000);
    const ref = new PartitionJoin(TOPICS, 0, W);
    const refOut = new JoinOutput();
    feed(ref, stream, 0, stream.length, refOut);
    ref.drain(refOut);
    expect(ref.counters.positives).toBeGreaterThan(1000);
    expect(ref.counters.lateClicks).toBeGreaterThan(50);
    expect(ref.counters.unknownClicks).toBeGreaterThan(50);
    expect(ref.counters.duplicateClicks).toBeGreaterThan(50);
    expect(ref.counters.duplicateImpressions).toBeGreaterThan(50);

    const impressions = stream.filter((e) => e.topic === 'imp').map((e) => e.rec);
    const committed: string[] = [];
    let j = new PartitionJoin(TOPICS, 0, W);
    let pos = 0;
    let maxState = 0;
    for (const cut of [1500, 4000, 4001, 9000, 15000, 22000, stream.length]) {
      const out = new JoinOutput();
      feed(j, stream, pos, cut, out);
      const blob = JSON.stringify(j.snapshot());
      maxState = Math.max(maxState, blob.length);
      committed.push(...outputs(out));
      // Work done after the checkpoint and lost in a crash: it must not leak into the result.
      feed(j, stream, cut, Math.min(stream.length, cut + 700), new JoinOutput());
      const state = parsePartitionState(0, blob);
      j = new PartitionJoin(TOPICS, 0, W, state);
      for (const r of impressions.slice(state.replayFrom, state.impNext)) j.replayImpression(r);
      j.finishReplay();
      expect(j.snapshot()).toEqual(state);
      pos = stream.findIndex((e) => (e.topic === 'imp' ? e.rec.offset >= state.impNext : e.rec.offset >= state.clickNext));
      if (pos < 0) pos = stream.length;
      pos = Math.min(pos, cut);
    }
    const last = new JoinOutput();
    j.drain(last);
    committed.push(...outputs(last));
    expect(committed.sort()).toEqual(outputs(refOut));
    expect(j.counters).toEqual(ref.counters);
    expect(maxState).toBeLessThan(30_000);
  });
});
