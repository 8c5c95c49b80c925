/**
 * A synthetic impression stream with the labeled examples the join would emit for it (positives at
 * click time, negatives at the end of the attribution window), and the online-store contents the
 * aggregator must produce from it — for the aggregator's tests and its crash test.
 */
import { expect } from 'vitest';
import { TOPICS } from '../../src/core/index.ts';
import type { EventLog } from '../../src/events/index.ts';
import { Aggregator, userCategoryKey, type EntityRef, type FeatureRow, type OnlineStore } from '../../src/features/index.ts';

const T0 = Date.parse('2024-05-01T00:00:00Z');
const WINDOW = 30 * 60_000;

export interface Imp {
  impressionId: string;
  ts: number;
  userId: string;
  adId: string;
  campaignId: string;
  category: string;
  clickTs: number | null;
}

/** A stream of impressions and, as the join would emit them, their labeled examples (positives at click time, negatives at window end). */
export function makeStream(n: number, seed = 1): Imp[] {
  let s = seed;
  const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296);
  return Array.from({ length: n }, (_, i) => {
    const ts = T0 + i * 1500;
    const clicked = rand() < 0.08;
    return {
      impressionId: `i${i}`,
      ts,
      userId: `u${Math.floor(rand() * 40)}`,
      adId: `a${Math.floor(rand() * 25)}`,
      campaignId: `c${Math.floor(rand() * 6)}`,
      category: `k${Math.floor(rand() * 5)}`,
      clickTs: clicked ? ts + Math.floor(rand() * 20 * 60_000) : null,
    };
  });
}

export const impressionJson = (e: Imp) =>
  JSON.stringify({ type: 'impression', impressionId: e.impressionId, requestId: 'r', ts: e.ts, userId: e.userId, adId: e.adId, campaignId: e.campaignId, bid: 1, position: 0, pCTR: 0.05, modelVersion: 'm@1', features: { ad_category: e.category } });
export const exampleJson = (e: Imp) => JSON.stringify({ ...JSON.parse(impressionJson(e)), type: 'example', label: e.clickTs === null ? 0 : 1, clickTs: e.clickTs });

export async function appendStream(log: EventLog, events: Imp[]): Promise<void> {
  await log.append(TOPICS.impressions, events.map((e) => ({ key: e.impressionId, value: impressionJson(e) })));
  const emitted = events.map((e) => ({ at: e.clickTs ?? e.ts + WINDOW, e })).sort((a, b) => a.at - b.at);
  await log.append(TOPICS.examples, emitted.map(({ e }) => ({ key: e.impressionId, value: exampleJson(e) })));
}

/** What the store must hold: the aggregator fed directly, in event-time order. */
export function reference(events: Imp[]): FeatureRow[] {
  const agg = new Aggregator();
  const timeline = [...events.map((e) => ({ at: e.ts, e, click: false })), ...events.filter((e) => e.clickTs !== null).map((e) => ({ at: e.clickTs!, e, click: true }))];
  timeline.sort((a, b) => a.at - b.at);
  for (const { e, click } of timeline) {
    if (click) agg.click(e.userId, e.adId, e.campaignId, e.category, e.ts, e.clickTs!);
    else agg.impression(e.userId, e.adId, e.campaignId, e.category, e.ts);
  }
  return agg.flushRows();
}

export function refsOf(events: Imp[]): EntityRef[] {
  const keys = new Set<string>();
  for (const e of events) {
    keys.add(`user\u0000${e.userId}`).add(`ad\u0000${e.adId}`).add(`campaign\u0000${e.campaignId}`).add(`user_category\u0000${userCategoryKey(e.userId, e.category)}`);
  }
  return [...keys].map((k) => ({ entity: k.split('\u0000')[0], key: k.split('\u0000')[1] }));
}

export async function expectStoreMatches(store: OnlineStore, events: Imp[]): Promise<void> {
  const want = new Map(reference(events).map((r) => [`${r.ref.entity}:${r.ref.key}`, r.values]));
  const refs = refsOf(events);
  const got = await store.get(refs);
  refs.forEach((ref, i) => {
    const w = want.get(`${ref.entity}:${ref.key}`)!;
    expect(got[i], `${ref.entity}:${ref.key}`).toEqual(Object.fromEntries(Object.entries(w).map(([k, v]) => [k, Math.fround(v)])));
  });
}
