import { describe, expect, it } from 'vitest';
import { Features, isPctrError, REQUEST_FEATURES } from '../core/index.ts';
import { AdMarket, requestFeatures, type MarketRequest } from './ad-market.ts';

const T0 = 1_704_067_200_000;
const HOUR = 3_600_000;

describe('AdMarket', () => {
  it('makes rank requests: a user, a context, distinct candidates with campaign bids', () => {
    const market = new AdMarket({ seed: 1, candidates: 40 });
    const req = market.nextRequest(T0 + 5 * HOUR);
    expect(market.startTs).toBe(T0 + 5 * HOUR);
    expect(req.userId).toMatch(/^u\d+$/);
    expect(req.context.hour).toBe(5);
    expect(['mobile', 'desktop', 'tablet']).toContain(req.context.device);
    expect(req.context.site).toMatch(/^site\d+$/);
    expect(req.candidates).toHaveLength(40);
    expect(new Set(req.candidates.map((c) => c.adId)).size).toBe(40);
    const bidOf = new Map<string, number>();
    for (let i = 0; i < 50; i++) {
      for (const c of market.nextRequest(T0 + 5 * HOUR + i).candidates) {
        expect(c.bid).toBeGreaterThan(0);
        expect(bidOf.get(c.campaignId) ?? c.bid).toBe(c.bid);
        bidOf.set(c.campaignId, c.bid);
      }
    }
    const features = requestFeatures(req.userId, req.candidates[0], req.context);
    expect(Object.keys(Features.parse(features)).sort()).toEqual(REQUEST_FEATURES.map((f) => f.name).sort());
  });

  it('targets candidates at the user: categories of their interests are over-represented', () => {
    const market = new AdMarket({ seed: 2, categories: 24, targetedShare: 0.5 });
    let favourite = 0;
    let total = 0;
    for (let i = 0; i < 200; i++) {
      const req = market.nextRequest(T0 + i);
      const counts = new Map<string, number>();
      for (const c of req.candidates) counts.set(c.category, (counts.get(c.category) ?? 0) + 1);
      favourite += Math.max(...counts.values());
      total += req.candidates.length;
    }
    // Untargeted, the most common of 24 categories among 40 candidates holds ~10 %.
    expect(favourite / total).toBeGreaterThan(0.15);
  });

  it('answers outcomes whose click rate follows the true CTR, which falls with position', () => {
    const market = new AdMarket({ seed: 3, drift: false, duplicateRate: 0.5 });
    let ctrSum = 0;
    let clicks = 0;
    let duplicates = 0;
    let top = 0;
    let fifth = 0;
    const n = 40_000;
    for (let i = 0; i < n; i++) {
      const now = T0 + i * 1000;
      const req = market.nextRequest(now);
      const ad = req.candidates[i % req.candidates.length].adId;
      top += market.trueCtr(req, ad, 0, now);
      fifth += market.trueCtr(req, ad, 4, now);
      const out = market.outcome(req, ad, 0, now);
      ctrSum += out.trueCtr;
      if (out.click) {
        clicks++;
        expect(out.click.delayMs).toBeGreaterThan(0);
        if (out.click.duplicateDelayMs !== null) {
          duplicates++;
          expect(out.click.duplicateDelayMs).toBeGreaterThan(out.click.delayMs);
        }
      }
    }
    expect(ctrSum / n).toBeGreaterThan(0.02);
    expect(ctrSum / n).toBeLessThan(0.05);
    expect(Math.abs(clicks - ctrSum) / ctrSum).toBeLessThan(0.1);
    expect(duplicates / clicks).toBeGreaterThan(0.4);
    expect(duplicates / clicks).toBeLessThan(0.6);
    expect(fifth / top).toBeLessThan(0.5);
  });

  it('is reproducible for a seed', () => {
    const play = (seed: number) => {
      const market = new AdMarket({ seed });
      const out: unknown[] = [];
      for (let i = 0; i < 200; i++) {
        const req = market.nextRequest(T0 + i * 500);
        out.push(req, market.outcome(req, req.candidates[0].adId, 0, T0 + i * 500));
        market.advance(T0 + i * 500);
      }
      return out;
    };
    expect(play(4)).toEqual(play(4));
    expect(play(4)).not.toEqual(play(5));
  });

  it('drifts: true CTRs of the same impressions change over time only when drift is on', () => {
    const requests = (market: AdMarket) => Array.from({ length: 300 }, (_, i) => market.nextRequest(T0 + i));
    const ctrs = (market: AdMarket, reqs: MarketRequest[], now: number) => reqs.map((r) => market.trueCtr(r, r.candidates[0].adId, 0, now));
    const still = new AdMarket({ seed: 6, drift: false });
    const stillReqs = requests(still);
    const before = ctrs(still, stillReqs, T0);
    still.advance(T0 + 24 * HOUR);
    expect(ctrs(still, stillReqs, T0 + 24 * HOUR)).toEqual(before);

    const moving = new AdMarket({ seed: 6, drift: { qualityDecayPerHour: 0.02, tasteTimescaleMs: 24 * HOUR } });
    const reqs = requests(moving);
    const a = ctrs(moving, reqs, T0);
    for (let t = T0; t <= T0 + 24 * HOUR; t += 10 * 60_000) moving.advance(t);
    const b = ctrs(moving, reqs, T0 + 24 * HOUR);
    const changed = a.filter((x, i) => Math.abs(x - b[i]) / x > 0.05).length;
    expect(changed / a.length).toBeGreaterThan(0.5);
    const state = moving.state();
    expect(state.newAds).toBeGreaterThan(400);
    expect(state.liveAds).toBe(2000);
    expect(state.deviceShifted).toBe(true);
  });

  it('rejects outcomes for ads that were not candidates, bad positions and foreign requests', () => {
    const market = new AdMarket({ seed: 7 });
    const req = market.nextRequest(T0);
    const notCandidate = market.nextRequest(T0).candidates.find((c) => !req.candidates.some((d) => d.adId === c.adId));
    const expectValidation = (f: () => unknown, text: string) => {
      try {
        f();
        expect.unreachable();
      } catch (e) {
        expect(isPctrError(e, 'PCTR_VALIDATION')).toBe(true);
        expect((e as Error).message).toContain(text);
      }
    };
    expectValidation(() => market.outcome(req, notCandidate?.adId ?? 'a999999', 0, T0), 'not a candidate');
    expectValidation(() => market.outcome(req, req.candidates[0].adId, -1, T0), 'position');
    expectValidation(() => market.outcome({ ...req, userId: 'someone' }, req.candidates[0].adId, 0, T0), 'not made by this market');
    expect(() => new AdMarket({ baseCtr: 0.5 })).toThrow(/baseCtr/);
  });
});
