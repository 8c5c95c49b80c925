import { describe, expect, it } from 'vitest';
import { DEFAULT_CTR_PRIOR, smoothedCtr, type WindowSpec } from '../definitions.ts';
import { Aggregator } from './aggregator.ts';
import { DIRTY_ONLINE, WindowedCounts } from './windowed-counts.ts';

const MIN = 60_000;
const H = 60 * MIN;
/** Small windows so a hand-made stream crosses bucket edges: 10 min of 1-min buckets, 1 h of 10-min buckets. */
const SMALL: WindowSpec[] = [
  { name: '10m', spanMs: 10 * MIN, bucketMs: MIN },
  { name: '1h', spanMs: H, bucketMs: 10 * MIN },
];
const T0 = 1_700_000_400_000; // a multiple of 10 min

describe('WindowedCounts', () => {
  it('counts exactly within each window on a hand-made stream', () => {
    const c = new WindowedCounts(SMALL);
    c.add('a', T0, 1, 0);
    c.add('a', T0 + 30_000, 1, 1);
    c.add('a', T0 + 5 * MIN, 2, 0);
    c.add('b', T0 + 5 * MIN, 1, 0);
    expect(c.counts('a')).toEqual([4, 1, 4, 1]);
    expect(c.counts('b')).toEqual([1, 0, 1, 0]);
    expect(c.counts('nobody')).toBeNull();
  });

  it('evicts buckets as event time advances, per window', () => {
    const c = new WindowedCounts(SMALL);
    c.add('a', T0, 3, 1);
    c.add('a', T0 + 4 * MIN, 2, 0);
    // 10-min window holds buckets (head-9 … head): at T0+10min the T0 bucket leaves it.
    c.advance(T0 + 10 * MIN - 1);
    expect(c.counts('a')).toEqual([5, 1, 5, 1]);
    c.advance(T0 + 10 * MIN);
    expect(c.counts('a')).toEqual([2, 0, 5, 1]);
    c.advance(T0 + 14 * MIN);
    expect(c.counts('a')).toEqual([0, 0, 5, 1]);
    // The 1 h window (10-min buckets) drops the T0 bucket at T0+60min.
    c.advance(T0 + 59 * MIN);
    expect(c.counts('a')).toEqual([0, 0, 5, 1]);
    c.advance(T0 + 60 * MIN);
    expect(c.counts('a')).toEqual([0, 0, 0, 0]);
  });

  it('jumps over many buckets at once and never moves time backwards', () => {
    const c = new WindowedCounts(SMALL);
    c.add('a', T0, 1, 0);
    c.advance(T0 + 10 * H);
    c.advance(T0);
    expect(c.counts('a')).toEqual([0, 0, 0, 0]);
    c.add('a', T0 + 10 * H + 1, 1, 0);
    expect(c.counts('a')).toEqual([1, 0, 1, 0]);
  });

  it('counts an out-of-order event in its own bucket and drops one already outside the window', () => {
    const c = new WindowedCounts(SMALL);
    c.add('a', T0 + 20 * MIN, 1, 0);
    c.add('a', T0 + 15 * MIN, 1, 0); // late but inside both windows
    c.add('a', T0 + 5 * MIN, 1, 0); // outside the 10-min window, inside the hour
    expect(c.counts('a')).toEqual([2, 0, 3, 0]);
    expect(Array.from(c.late)).toEqual([1, 0]);
    c.advance(T0 + 25 * MIN);
    expect(c.counts('a')).toEqual([1, 0, 3, 0]);
    c.advance(T0 + 30 * MIN);
    expect(c.counts('a')).toEqual([0, 0, 3, 0]);
  });

  it('reports changed entities once per drain and forgets entities whose counts reached zero', () => {
    const c = new WindowedCounts(SMALL);
    c.add('a', T0, 1, 0);
    c.add('a', T0 + 1, 1, 0);
    c.add('b', T0, 1, 0);
    const seen: string[] = [];
    expect(c.drain(DIRTY_ONLINE, (k) => seen.push(k))).toBe(2);
    expect(seen).toEqual(['a', 'b']);
    expect(c.drain(DIRTY_ONLINE, () => undefined)).toBe(0);
    c.advance(T0 + 2 * H);
    const zeroed: [string, number[]][] = [];
    c.drain(DIRTY_ONLINE, (k, sums, off) => zeroed.push([k, Array.from(sums.subarray(off, off + 4))]));
    expect(zeroed).toEqual([
      ['a', [0, 0, 0, 0]],
      ['b', [0, 0, 0, 0]],
    ]);
    expect(c.size).toBe(0);
    c.add('c', T0 + 2 * H, 1, 0);
    expect(c.counts('c')).toEqual([1, 0, 1, 0]);
    expect(c.counts('a')).toBeNull();
  });

  it('exports and imports its state exactly', () => {
    const c = new WindowedCounts(SMALL);
    for (let i = 0; i < 500; i++) c.add(`k${i % 37}`, T0 + i * 7_000, 1, i % 5 === 0 ? 1 : 0);
    c.drain(DIRTY_ONLINE, () => undefined);
    const d = new WindowedCounts(SMALL);
    d.importState(structuredClone(c.exportState()));
    for (let i = 0; i < 37; i++) expect(d.counts(`k${i}`)).toEqual(c.counts(`k${i}`));
    // Both keep evolving identically after the restore.
    for (const x of [c, d]) {
      x.add('k1', T0 + 500 * 7_000, 1, 0);
      x.advance(T0 + 500 * 7_000 + 30 * MIN);
    }
    for (let i = 0; i < 37; i++) expect(d.counts(`k${i}`)).toEqual(c.counts(`k${i}`));
  });
});

describe('Aggregator', () => {
  const imp = (o: Record<string, unknown>) => JSON.stringify({ type: 'impression', userId: 'u1', adId: 'a1', campaignId: 'c1', features: { ad_category: 'sports' }, ...o });
  const ex = (o: Record<string, unknown>) => JSON.stringify({ type: 'example', userId: 'u1', adId: 'a1', campaignId: 'c1', features: { ad_category: 'sports' }, ...o });

  it('counts impressions and positive examples per user, ad, campaign and user×category, with smoothed CTR', () => {
    const agg = new Aggregator({ windows: SMALL });
    expect(agg.applyRecord('impression', imp({ ts: T0 }))).toBe(true);
    agg.applyRecord('impression', imp({ ts: T0 + 1000, adId: 'a2' }));
    agg.applyRecord('impression', imp({ ts: T0 + 2000, userId: 'u2', features: { ad_category: 'news' } }));
    agg.applyRecord('example', ex({ ts: T0, label: 1, clickTs: T0 + 40_000 }));
    agg.applyRecord('example', ex({ ts: T0 + 1000, adId: 'a2', label: 0, clickTs: null }));
    const rows = new Map(agg.flushRows().map((r) => [`${r.ref.entity}:${r.ref.key}`, r]));
    expect([...rows.keys()].sort()).toEqual(['ad:a1', 'ad:a2', 'campaign:c1', 'user:u1', 'user:u2', 'user_category:u1|sports', 'user_category:u2|news']);
    const prior = DEFAULT_CTR_PRIOR;
    const a1 = rows.get('ad:a1')!;
    expect(a1.ts).toBe(T0 + 40_000);
    expect(a1.values).toEqual({
      ad_imps_10m: 2,
      ad_clicks_10m: 1,
      ad_ctr_10m: smoothedCtr(1, 2, prior),
      ad_imps_1h: 2,
      ad_clicks_1h: 1,
      ad_ctr_1h: smoothedCtr(1, 2, prior),
    });
    expect(rows.get('campaign:c1')!.values.campaign_imps_10m).toBe(3);
    expect(rows.get('user_category:u1|sports')!.values).toMatchObject({ user_category_imps_1h: 2, user_category_clicks_1h: 1 });
    expect(rows.get('ad:a2')!.values).toMatchObject({ ad_imps_1h: 1, ad_clicks_1h: 0, ad_ctr_1h: smoothedCtr(0, 1, prior) });
    expect(agg.stats).toEqual({ impressions: 3, clicks: 1, invalid: 0 });
    expect(agg.flushRows()).toEqual([]);
  });

  it('smooths CTR towards the prior: cold entities get it, busy ones approach their own rate', () => {
    const prior = { ctr: 0.02, weight: 50 };
    expect(smoothedCtr(0, 0, prior)).toBeCloseTo(0.02, 12);
    expect(smoothedCtr(1, 1, prior)).toBeCloseTo((1 + 1) / 51, 12);
    expect(smoothedCtr(10_000, 100_000, prior)).toBeCloseTo(0.1, 2);
    const agg = new Aggregator({ windows: SMALL, prior });
    agg.impression('u', 'a', 'c', undefined, T0);
    const [user] = agg.flushRows().filter((r) => r.ref.entity === 'user');
    expect(user.values.user_ctr_10m).toBeCloseTo(1 / 51, 12);
  });

  it('writes decayed counts (down to zero, CTR back to the prior) as event time passes', () => {
    const agg = new Aggregator({ windows: SMALL });
    agg.impression('u', 'a', 'c', 'x', T0);
    agg.flushRows();
    agg.impression('u2', 'a2', 'c2', 'x', T0 + 2 * H);
    const rows = new Map(agg.flushRows().map((r) => [`${r.ref.entity}:${r.ref.key}`, r.values]));
    expect(rows.get('ad:a')).toEqual({ ad_imps_10m: 0, ad_clicks_10m: 0, ad_ctr_10m: 0.03, ad_imps_1h: 0, ad_clicks_1h: 0, ad_ctr_1h: 0.03 });
    expect(agg.sizes()).toEqual({ user: 1, ad: 1, campaign: 1, user_category: 1 });
  });

  it('recognises negatives without a full parse, and positives however they are formatted', () => {
    const agg = new Aggregator({ windows: SMALL });
    const negative = ex({ ts: T0, label: 0, clickTs: null });
    expect(agg.parse('example', negative)).toMatchObject({ what: 'negative', ts: T0 });
    // Pretty-printed (spaces after colons): no quick match, so parsed in full and still a positive.
    const spaced = JSON.stringify(JSON.parse(ex({ ts: T0, label: 1, clickTs: T0 + 5 })), null, 1);
    expect(agg.parse('example', spaced)).toMatchObject({ what: 'click', userId: 'u1', ts: T0, clickTs: T0 + 5 });
    // A feature that happens to be called "label" does not hide the example's own label.
    const tricky = ex({ ts: T0, label: 1, clickTs: T0 + 5, features: { ad_category: 'x', label: 0 } });
    expect(agg.parse('example', tricky)).toMatchObject({ what: 'click' });
    expect(agg.stats.invalid).toBe(0);
  });

  it('skips records without the needed fields and counts them', () => {
    const agg = new Aggregator({ windows: SMALL });
    expect(agg.applyRecord('impression', 'not json')).toBe(false);
    expect(agg.applyRecord('impression', 'null')).toBe(false);
    expect(agg.applyRecord('impression', imp({ ts: 'yesterday' }))).toBe(false);
    expect(agg.applyRecord('impression', JSON.stringify({ type: 'click', impressionId: 'i', ts: 1 }))).toBe(false);
    expect(agg.applyRecord('example', imp({ ts: T0 }))).toBe(false);
    expect(agg.stats.invalid).toBe(5);
    expect(agg.flushRows()).toEqual([]);
  });

  it('gives snapshot rows of changed entities when snapshots are on', () => {
    const agg = new Aggregator({ windows: SMALL, snapshots: true });
    agg.impression('u', 'a', 'c', 'x', T0);
    agg.flushRows();
    const snaps = agg.snapshotRows();
    expect(snaps.map((s) => s.entity)).toEqual(['user', 'ad', 'campaign', 'user_category']);
    expect(snaps[1]).toMatchObject({ entity: 'ad', ts: T0, keys: ['a'], names: ['ad_imps_10m', 'ad_clicks_10m', 'ad_ctr_10m', 'ad_imps_1h', 'ad_clicks_1h', 'ad_ctr_1h'] });
    expect(Array.from(snaps[1].values)).toEqual([1, 0, 3 / 101, 1, 0, 3 / 101]);
    expect(agg.snapshotRows()).toEqual([]);
  });
});
