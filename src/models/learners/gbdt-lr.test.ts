import { describe, expect, it } from 'vitest';
import { modelContract } from '../../../test/contracts/model.contract.ts';
import { sourceOf, SYNTHETIC_SCHEMA, syntheticBatch } from '../../../test/helpers/synthetic-ctr.ts';
import type { RawBatch } from '../../core/index.ts';
import { createLearner, loadModel } from '../factory.ts';
import { encodeArtifact } from '../artifact.ts';
import { auc, logloss } from '../metrics/metrics.ts';
import { GbdtLrLearner, GbdtLrParams } from './gbdt-lr.ts';

modelContract('gbdt-lr', (schema) => createLearner('gbdt-lr', { trees: 30, threads: 1, epochs: 2 }, schema));

function predictAll(m: { predict(b: RawBatch, out: Float32Array): void }, batch: RawBatch): Float32Array {
  const out = new Float32Array(batch.n);
  m.predict(batch, out);
  return out;
}

function slice(b: RawBatch, from: number, to: number): RawBatch {
  return { n: to - from, schema: b.schema, columns: b.columns.map((c) => c.subarray(from, to)), labels: b.labels?.subarray(from, to) };
}

describe('GbdtLrLearner', () => {
  it('feeds one token per tree (its leaf) to the linear model, with or without the raw fields', async () => {
    const train = syntheticBatch(20_000, 31);
    const test = syntheticBatch(5000, 32);
    const oracle = auc(test.truth, test.labels!);
    const touched: number[] = [];
    for (const rawFeatures of [true, false]) {
      const m = new GbdtLrLearner(SYNTHETIC_SCHEMA, GbdtLrParams.parse({ trees: 30, threads: 1, rawFeatures, epochs: 2 }));
      const report = await m.fit(sourceOf(train, 1000));
      expect(report.trees).toBeGreaterThan(5);
      const { tensors } = m.toArtifact();
      const leaves = (tensors['gbdt/tree.feature'] as Int32Array).filter((f) => f < 0).length;
      touched.push((tensors['lr/index'] as Int32Array).length);
      // Without raw fields, the leaves the linear rows reach and the bias are the only tokens.
      if (!rawFeatures) expect(touched[1]).toBeLessThanOrEqual(leaves + 1);
      expect(auc(predictAll(m, test), test.labels!)).toBeGreaterThan(oracle - 0.03);
    }
    // The same trees either way, so the raw fields add their own tokens: 20 ads, 5 sites, ~20 count bins.
    expect(touched[0] - touched[1]).toBeGreaterThan(25);
    expect(touched[0] - touched[1]).toBeLessThan(60);
  });

  it('scores through cached leaf weights exactly as through hashing every leaf token, also after online updates and a reload', async () => {
    const test = syntheticBatch(3000, 37);
    type Internals = { lr: { scoreEncoded(e: unknown, out: Float32Array): void; encoder: { encode(b: RawBatch): unknown } }; combine(b: RawBatch): RawBatch };
    const hashed = (m: GbdtLrLearner): Float32Array => {
      const x = m as unknown as Internals;
      const out = new Float32Array(test.n);
      x.lr.scoreEncoded(x.lr.encoder.encode(x.combine(test)), out);
      return out;
    };
    for (const rawFeatures of [true, false]) {
      const m = new GbdtLrLearner(SYNTHETIC_SCHEMA, GbdtLrParams.parse({ trees: 20, threads: 1, rawFeatures, epochs: 1 }));
      await m.fit(sourceOf(syntheticBatch(8000, 36), 1000));
      expect(predictAll(m, test)).toEqual(hashed(m));
      expect((m as unknown as { scorer: unknown }).scorer).toBeTruthy();
      m.update(syntheticBatch(2000, 38));
      expect(predictAll(m, test)).toEqual(hashed(m));
      const reloaded = loadModel(encodeArtifact(m.toArtifact())) as GbdtLrLearner;
      expect(predictAll(reloaded, test)).toEqual(predictAll(m, test));
    }
  });

  it('keeps learning online after fit: the linear part follows a shift the frozen trees cannot', async () => {
    const m = new GbdtLrLearner(SYNTHETIC_SCHEMA, GbdtLrParams.parse({ trees: 20, threads: 1 }));
    await m.fit(sourceOf(syntheticBatch(10_000, 33), 1000));
    const frozen = loadModel(encodeArtifact(m.toArtifact()));
    // Clicks become far more likely overall (base logit −1.5 → 0): only the online model can follow.
    const shifted = syntheticBatch(12_000, 34, { base: 0 });
    for (let from = 0; from < 8000; from += 500) m.update(slice(shifted, from, from + 500));
    const later = slice(shifted, 8000, 12_000);
    expect(logloss(predictAll(m, later), later.labels!)).toBeLessThan(logloss(predictAll(frozen, later), later.labels!) - 0.02);
  });

  it('fits the trees on the first rows and the linear model on the rest', async () => {
    const m = new GbdtLrLearner(SYNTHETIC_SCHEMA, GbdtLrParams.parse({ trees: 10, threads: 1, treeFraction: 0.25, validationFraction: 0.2 }));
    const report = await m.fit(sourceOf(syntheticBatch(8000, 35), 1000));
    expect(report.examples).toBe(8000);
    expect(m.trees).toBeGreaterThan(0);
    const stored = m.toArtifact().header.params as GbdtLrParams;
    expect([stored.treeFraction, stored.rawFeatures]).toEqual([0.25, true]);
    expect(() => createLearner('gbdt-lr', { rawFeatures: 'no' }, SYNTHETIC_SCHEMA)).toThrow(/invalid gbdt-lr parameters: rawFeatures/);
    expect(GbdtLrParams.parse({ rawFeatures: 'false' }).rawFeatures).toBe(false);
  });
});
