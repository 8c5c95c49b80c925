import { describe, expect, it } from 'vitest';
import { Click, Impression, isPctrError, REQUEST_FEATURES } from '../core/index.ts';
import { auc } from '../models/index.ts';
import { EventGenerator, generateEventRecords, generateEvents, type GeneratorStats } from './event-generator.ts';
import type { GeneratorOptionsInput } from './generator-options.ts';

interface Run {
  impressions: Impression[];
  clicks: Click[];
  stats: GeneratorStats;
  batches: number;
}

function run(opts: GeneratorOptionsInput): Run {
  const out: Run = { impressions: [], clicks: [], stats: undefined as unknown as GeneratorStats, batches: 0 };
  const gen = generateEvents(opts);
  for (let it = gen.next(); ; it = gen.next()) {
    if (it.done) {
      out.stats = it.value;
      return out;
    }
    out.batches++;
    out.impressions.push(...it.value.impressions);
    out.clicks.push(...it.value.clicks);
  }
}

/** Impression number from an id like `sim1.i2s`. */
const numberOf = (id: string) => parseInt(id.slice(id.lastIndexOf('.i') + 2), 36);

describe('generateEvents', () => {
  it('is reproducible: same seed, same events; another seed, other events', () => {
    const a = run({ seed: 11, impressions: 3000 });
    const b = run({ seed: 11, impressions: 3000 });
    const c = run({ seed: 12, impressions: 3000 });
    expect(b.impressions).toEqual(a.impressions);
    expect(b.clicks).toEqual(a.clicks);
    expect(c.impressions.map((i) => i.userId)).not.toEqual(a.impressions.map((i) => i.userId));
  });

  it('produces events that validate against the core schemas, with exactly the request-level features', () => {
    const { impressions, clicks } = run({ seed: 2, impressions: 5000, unknownClickRate: 0.01 });
    expect(impressions).toHaveLength(5000);
    expect(clicks.length).toBeGreaterThan(50);
    const names = REQUEST_FEATURES.map((f) => f.name).sort();
    for (const imp of impressions) {
      expect(Impression.parse(imp)).toEqual(imp);
      expect(Object.keys(imp.features).sort()).toEqual(names);
      expect(imp.modelVersion).toBe('sim@0');
      expect(imp.features.ctx_hour).toBe(Math.floor(imp.ts / 3_600_000) % 24);
    }
    for (const click of clicks) expect(Click.parse(click)).toEqual(click);
  });

  it('writes JSON records equal to the event objects, keyed by impressionId', () => {
    const objects = run({ seed: 3, impressions: 4000, batchSize: 500 });
    const impressions: unknown[] = [];
    const clicks: unknown[] = [];
    for (const batch of generateEventRecords({ seed: 3, impressions: 4000, batchSize: 500 })) {
      for (const r of batch.impressions) {
        const e = Impression.parse(JSON.parse(r.value));
        expect(r.key).toBe(e.impressionId);
        impressions.push(e);
      }
      for (const r of batch.clicks) {
        const e = Click.parse(JSON.parse(r.value));
        expect(r.key).toBe(e.impressionId);
        clicks.push(e);
      }
    }
    expect(impressions).toEqual(objects.impressions);
    expect(clicks).toEqual(objects.clicks);
  });

  it('emits in event-time order: within each list, and no event of a batch after any of the next', () => {
    let lastBatchMax = -Infinity;
    let batches = 0;
    for (const batch of generateEvents({ seed: 4, impressions: 20_000, batchSize: 1000 })) {
      batches++;
      for (const list of [batch.impressions, batch.clicks]) {
        for (let i = 1; i < list.length; i++) expect(list[i].ts).toBeGreaterThanOrEqual(list[i - 1].ts);
      }
      const all = [...batch.impressions, ...batch.clicks].map((e) => e.ts);
      if (all.length === 0) continue;
      expect(Math.min(...all)).toBeGreaterThanOrEqual(lastBatchMax);
      lastBatchMax = Math.max(...all);
    }
    expect(batches).toBeGreaterThanOrEqual(20);
  });

  it('schedules every click after its impression, and late, duplicate and unknown clicks at their rates', () => {
    const windowMs = 30 * 60_000;
    const { impressions, clicks, stats } = run({ seed: 5, impressions: 200_000, windowMs, duplicateRate: 0.05, unknownClickRate: 0.002 });
    const ts = new Map(impressions.map((i) => [i.impressionId, i.ts]));
    const seen = new Set<string>();
    let unknown = 0;
    let duplicates = 0;
    const delays: number[] = [];
    for (const c of clicks) {
      const at = ts.get(c.impressionId);
      if (at === undefined) {
        unknown++;
        continue;
      }
      expect(c.ts).toBeGreaterThan(at);
      if (seen.has(c.impressionId)) duplicates++;
      else delays.push(c.ts - at);
      seen.add(c.impressionId);
    }
    expect(unknown).toBe(stats.unknownClicks);
    expect(duplicates).toBe(stats.duplicateClicks);
    expect(delays.length).toBe(stats.firstClicks);
    expect(stats.clicks).toBe(clicks.length);
    expect(unknown / impressions.length).toBeCloseTo(0.002, 3);
    expect(duplicates / delays.length).toBeGreaterThan(0.04);
    expect(duplicates / delays.length).toBeLessThan(0.06);
    // Heavy-tailed delays: most clicks within 2 minutes, some near the window's end, ~1.5 % after it.
    const within2min = delays.filter((d) => d <= 120_000).length / delays.length;
    const late = delays.filter((d) => d > windowMs).length / delays.length;
    const lastTenMinutes = delays.filter((d) => d > windowMs - 600_000 && d <= windowMs).length / delays.length;
    expect(within2min).toBeGreaterThan(0.7);
    expect(within2min).toBeLessThan(0.88);
    expect(late).toBeGreaterThan(0.008);
    expect(late).toBeLessThan(0.025);
    expect(lastTenMinutes).toBeGreaterThan(0.005);
    expect(late).toBeCloseTo(stats.lateClicks / stats.firstClicks, 10);
  });

  it('calibrates the mean true CTR to the base CTR, and the oracle separates clicks from non-clicks (AUC 0.70–0.85)', () => {
    for (const baseCtr of [0.01, 0.03, 0.05]) {
      const { impressions, clicks, stats } = run({ seed: 6, impressions: 150_000, baseCtr, unknownClickRate: 0, duplicateRate: 0, drift: false });
      const meanOracle = stats.oracleCtrSum / stats.impressions;
      expect(Math.abs(meanOracle - baseCtr) / baseCtr).toBeLessThan(0.08);
      const clickRate = clicks.length / impressions.length;
      expect(Math.abs(clickRate - baseCtr) / baseCtr).toBeLessThan(0.12);
      if (baseCtr !== 0.03) continue;
      const labels = new Uint8Array(impressions.length);
      for (const c of clicks) labels[numberOf(c.impressionId)] = 1;
      const oracle = Float64Array.from(impressions, (i) => i.oracleCtr ?? NaN);
      const served = Float64Array.from(impressions, (i) => i.pCTR);
      const oracleAuc = auc(oracle, labels);
      expect(oracleAuc).toBeGreaterThan(0.7);
      expect(oracleAuc).toBeLessThan(0.85);
      // The served pCTR is the oracle blurred by noise: good, not perfect.
      expect(auc(served, labels)).toBeLessThan(oracleAuc);
      expect(auc(served, labels)).toBeGreaterThan(oracleAuc - 0.05);
    }
  });

  it('drifts: cold ads get served and the device mix shifts on schedule', () => {
    const startTs = 1_704_067_200_000;
    const shiftAt = startTs + 12 * 3_600_000;
    const { impressions } = run({ seed: 7, impressions: 60_000, ratePerSec: 1, startTs, drift: { contextShift: { feature: 'device', atMs: 12 * 3_600_000 } } });
    expect(impressions[impressions.length - 1].ts - startTs).toBeGreaterThan(15 * 3_600_000);
    const mobileShare = (events: Impression[]) => events.filter((e) => e.features.ctx_device === 'mobile').length / events.length;
    const before = impressions.filter((e) => e.ts < shiftAt);
    const after = impressions.filter((e) => e.ts >= shiftAt + 60_000);
    expect(after.length).toBeGreaterThan(5000);
    expect(mobileShare(before)).toBeCloseTo(0.55, 1);
    expect(mobileShare(after)).toBeCloseTo(0.8, 1);
    // The initial pool is a0..a1999; later numbers are cold ads that arrived during the run.
    const coldAds = new Set(impressions.map((e) => e.adId).filter((id) => Number(id.slice(1)) >= 2000));
    expect(coldAds.size).toBeGreaterThan(50);
    const still = run({ seed: 7, impressions: 60_000, ratePerSec: 1, startTs, drift: false }).impressions;
    expect(mobileShare(still.filter((e) => e.ts >= shiftAt))).toBeCloseTo(0.55, 1);
    expect(still.every((e) => Number(e.adId.slice(1)) < 2000)).toBe(true);
  });

  it('counts down to exactly the requested impressions, honours idPrefix, and rejects bad options by name', () => {
    const gen = new EventGenerator({ seed: 8, impressions: 7, idPrefix: 'run2', batchSize: 3 });
    const ids: string[] = [];
    for (let b = gen.nextEvents(); b !== null; b = gen.nextEvents()) ids.push(...b.impressions.map((i) => i.impressionId));
    expect(ids).toHaveLength(7);
    expect(ids.every((id) => id.startsWith('run2i'))).toBe(true);
    expect(gen.done).toBe(true);
    expect(gen.nextRecords()).toBeNull();
    try {
      new EventGenerator({ impressions: 10, baseCtr: 0.2 });
      expect.unreachable();
    } catch (e) {
      expect(isPctrError(e, 'PCTR_VALIDATION')).toBe(true);
      expect((e as Error).message).toContain('baseCtr');
    }
    expect(() => new EventGenerator({ impressions: 10, ratePerSec: 0 })).toThrow(/ratePerSec/);
    expect(() => new EventGenerator({ impressions: 10, drift: { speed: 2 } as never })).toThrow(/drift/);
  });
});
