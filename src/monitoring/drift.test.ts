import { describe, expect, it } from 'vitest';
import { RawBatchBuilder, type FeatureSchema } from '../core/index.ts';
import { StatsAccumulator } from '../training/index.ts';
import { Drift, parseThresholds, type DriftOptions } from './drift.ts';

const SCHEMA: FeatureSchema = {
  fields: [
    { name: 'device', kind: 'categorical' },
    { name: 'hour', kind: 'categorical' },
    { name: 'ctr', kind: 'numeric' },
  ],
};

function rng(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

const pick = (r: number, mix: number[], names: string[]) => {
  let acc = 0;
  for (let i = 0; i < mix.length; i++) if (r < (acc += mix[i])) return names[i];
  return names.at(-1)!;
};

function row(rand: () => number, mix = [0.55, 0.35, 0.1], t = 0) {
  return { device: pick(rand(), mix, ['mobile', 'desktop', 'tablet']), hour: Math.floor(t / 3_600_000) % 24, ctr: 0.03 };
}

function reference(n = 20_000) {
  const rand = rng(1);
  const b = new RawBatchBuilder(SCHEMA, n);
  for (let i = 0; i < n; i++) b.add(row(rand));
  const acc = new StatsAccumulator(SCHEMA, n);
  acc.add(b.build());
  return acc.finish();
}

const OPTS: DriftOptions = { windowMs: 120_000, minRows: 1000, threshold: 0.2, ignore: new Set(['hour']), pctrThreshold: 0.2, baselineRows: 2000 };

describe('Drift', () => {
  it('PSI of a shifted categorical mix crosses the threshold; an unchanged one stays near 0; ignored features are not listed', () => {
    const d = new Drift(OPTS);
    d.setReference({ source: 'training-run', version: 1, runId: 'r', stats: reference() });
    const rand = rng(7);
    for (let t = 0; t < 600_000; t += 20) d.addFeatures(t, row(rand, [0.55, 0.35, 0.1], t));
    let r = d.report();
    expect(r.features.map((f) => f.feature)).toEqual(['device', 'ctr']);
    expect(r.features[0].psi!).toBeLessThan(0.01);
    expect(r.features[0].status).toBe('ok');
    // A numeric value on a bin edge (the prior CTR, stored as float32 in training) lands in the same bin.
    expect(r.features[1].psi!).toBeLessThan(1e-6);
    for (let t = 600_000; t < 900_000; t += 20) d.addFeatures(t, row(rand, [0.8, 0.12, 0.08], t));
    r = d.report();
    expect(r.features[0].psi!).toBeGreaterThan(0.3);
    expect(r.features[0].status).toBe('alert');
    expect(r.windowMs).toBe(120_000);
    expect(r.rows).toBe(6000);
  });

  it('reaches back for rows when the window is thin, and says insufficient when there are too few', () => {
    const d = new Drift({ ...OPTS, minRows: 500 });
    d.setReference({ source: 'training-run', version: 1, runId: 'r', stats: reference() });
    const rand = rng(3);
    for (let t = 0; t < 100; t++) d.addFeatures(t * 1000, row(rand));
    expect(d.report().features[0]).toMatchObject({ psi: null, status: 'insufficient' });
    for (let t = 100; t < 600; t++) d.addFeatures(t * 1000, row(rand));
    const r = d.report();
    expect(r.rows).toBeGreaterThanOrEqual(500);
    expect(r.windowMs).toBeGreaterThan(120_000);
    expect(r.features[0].psi).not.toBeNull();
  });

  it('PSI of pCTR against the champion’s first predictions; a new champion starts a new baseline', () => {
    const d = new Drift({ ...OPTS, minRows: 500, baselineRows: 2000 });
    d.setChampion('m@1');
    const rand = rng(5);
    for (let i = 0; i < 4000; i++) d.addPrediction(i * 30, 0.02 + 0.02 * rand(), 'm@1');
    expect(d.report().pctr.psi!).toBeLessThan(0.05);
    for (let i = 4000; i < 12_000; i++) d.addPrediction(i * 30, 0.04 + 0.02 * rand(), 'm@1');
    expect(d.report().pctr.psi!).toBeGreaterThan(1);
    d.setChampion('m@2');
    expect(d.report().pctr).toMatchObject({ psi: null, version: 'm@2' });
  });

  it('per-feature thresholds parse, and a bad entry names itself', () => {
    expect([...parseThresholds('ad_id=0.5, ctx_site=1')]).toEqual([
      ['ad_id', 0.5],
      ['ctx_site', 1],
    ]);
    expect(() => parseThresholds('ad_id=high')).toThrow(/"ad_id=high" is not name=psi/);
  });
});
