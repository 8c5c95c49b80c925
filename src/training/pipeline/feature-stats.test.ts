import { describe, expect, it } from 'vitest';
import { RawBatchBuilder, type FeatureSchema, type RawBatch } from '../../core/index.ts';
import { StatsAccumulator, psi } from './feature-stats.ts';
import { validateData, ValidationConfig } from './validation.ts';

const schema: FeatureSchema = { fields: [{ name: 'site', kind: 'categorical' }, { name: 'imps', kind: 'numeric' }, { name: 'gone', kind: 'numeric' }] };

/** n rows: site s0..s3 uniform (or mostly s0 when skewed), imps uniform on [0, 100) + shift, `gone` always missing. */
function rows(n: number, opts: { shift?: number; skewed?: boolean; nullEvery?: number } = {}): RawBatch {
  const b = new RawBatchBuilder(schema, n);
  for (let i = 0; i < n; i++) {
    const site = opts.skewed && i % 10 !== 0 ? 's0' : `s${i % 4}`;
    const imps = opts.nullEvery && i % opts.nullEvery === 0 ? NaN : ((i * 37) % 100) + (opts.shift ?? 0);
    b.add({ site, imps }, i % 5 === 0 ? 1 : 0, i);
  }
  return b.build({ labels: true, ts: true });
}

function stats(batch: RawBatch): StatsAccumulator {
  const acc = new StatsAccumulator(schema, batch.n);
  acc.add(batch);
  return acc;
}

describe('feature statistics and drift', () => {
  it('summarizes null rates, numeric deciles and categorical top values', () => {
    const s = stats(rows(1_000, { nullEvery: 4 })).finish();
    expect(s.map((f) => [f.name, f.nullRate])).toEqual([['site', 0], ['imps', 0.25], ['gone', 1]]);
    expect(s[1].edges).toHaveLength(9);
    expect(s[1].shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 10);
    expect(s[0].top).toHaveLength(4);
    expect(s[0].shares).toEqual([0.25, 0.25, 0.25, 0.25, 0]);
  });

  it('measures no drift on the same distribution and a large one on a shifted or skewed one', () => {
    const ref = stats(rows(2_000)).finish();
    const same = stats(rows(2_000));
    expect(psi(ref[1].shares, same.sharesLike(ref[1])!)).toBeCloseTo(0, 6);
    expect(psi(ref[0].shares, same.sharesLike(ref[0])!)).toBeCloseTo(0, 6);
    expect(psi(ref[1].shares, stats(rows(2_000, { shift: 50 })).sharesLike(ref[1])!)).toBeGreaterThan(1);
    expect(psi(ref[0].shares, stats(rows(2_000, { skewed: true })).sharesLike(ref[0])!)).toBeGreaterThan(0.25);
  });

  it('validation reports every failed check at once and drift as warnings unless maxPsi is set', () => {
    const part = { rows: 1_000, positives: 200 };
    const ref = stats(rows(1_000)).finish();
    const input = (batch: RawBatch) => ({ train: part, calibration: null, test: { rows: 100, positives: 20 }, sampleNegatives: 1, stats: stats(batch), reference: { runId: 'r0', stats: ref } });
    let err: unknown;
    try {
      validateData(input(rows(1_000, { shift: 50, nullEvery: 2 })), ValidationConfig.parse({ maxPsi: 0.5, maxNullRate: 0.4 }));
    } catch (e) {
      err = e;
    }
    const checks = (err as { details: { checks: { name: string; ok: boolean }[] } }).details.checks;
    expect(checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['schema', 'null rates', 'drift']);
    expect((err as Error).message).toMatch(/failed 3 of 8 checks: features missing from every row: gone; null rate above 40\.00%: imps 50\.00%; PSI above 0\.5 vs run r0: imps [\d.]+/);
    const ok = ValidationConfig.parse({ maxNullRate: 0.6 });
    const noGone: FeatureSchema = { fields: schema.fields.slice(0, 2) };
    const acc = new StatsAccumulator(noGone, 1_000);
    acc.add({ ...rows(1_000, { shift: 50 }), schema: noGone, columns: rows(1_000, { shift: 50 }).columns.slice(0, 2) });
    const report = validateData({ ...input(rows(1)), stats: acc }, ok);
    expect(report.checks.every((c) => c.ok)).toBe(true);
    expect(report.warnings).toEqual([`feature imps drifted: PSI ${report.drift.imps.toFixed(3)} vs run r0`]);
  });
});
