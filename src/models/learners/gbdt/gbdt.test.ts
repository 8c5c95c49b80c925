import { describe, expect, it } from 'vitest';
import { modelContract } from '../../../../test/contracts/model.contract.ts';
import { seededRandom, sourceOf, SYNTHETIC_SCHEMA, syntheticBatch } from '../../../../test/helpers/synthetic-ctr.ts';
import type { FeatureSchema, RawBatch } from '../../../core/index.ts';
import { encodeArtifact } from '../../artifact.ts';
import { createLearner } from '../../factory.ts';
import { auc, logloss } from '../../metrics/metrics.ts';
import { GbdtLearner } from './gbdt.ts';
import { GbdtParams } from './params.ts';
import { gbdtTrainingMatrices } from './training-matrix.ts';

modelContract('gbdt', (schema) => createLearner('gbdt', { trees: 60, threads: 1 }, schema));

const NUMERIC_SCHEMA: FeatureSchema = { fields: [{ name: 'x', kind: 'numeric' }] };

function predictAll(m: GbdtLearner, batch: RawBatch): Float32Array {
  const out = new Float32Array(batch.n);
  m.predict(batch, out);
  return out;
}

/** One numeric feature with few distinct values (so each is its own bin) and a known click rate per value. */
function steps(n: number, seed: number, missingCtr = 0.8): RawBatch {
  const rand = seededRandom(seed);
  const x = new Float32Array(n);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const missing = rand() < 0.2;
    x[i] = missing ? NaN : Math.floor(rand() * 20);
    const ctr = missing ? missingCtr : x[i] < 7 ? 0.1 : x[i] < 13 ? 0.3 : 0.5;
    labels[i] = rand() < ctr ? 1 : 0;
  }
  return { n, schema: NUMERIC_SCHEMA, columns: [x], labels };
}

describe('GbdtLearner', () => {
  it('fits the best stump a brute-force search finds, with leaf values −G/(H + λ)·η', async () => {
    const data = steps(3000, 3);
    const params = GbdtParams.parse({ trees: 1, maxLeaves: 2, earlyStoppingRounds: 0, lambda: 2, learningRate: 0.3, threads: 1 });
    const m = new GbdtLearner(NUMERIC_SCHEMA, params);
    await m.fit(sourceOf(data, 500));

    // Gradients at the base margin (log-odds of the click rate), then every cut and missing side.
    const x = data.columns[0] as Float32Array;
    const y = data.labels!;
    const p0 = y.reduce((s, v) => s + v, 0) / data.n;
    const g = Array.from(y, (v) => p0 - v);
    const h = p0 * (1 - p0);
    const score = (gs: number, n: number) => (gs * gs) / (n * h + params.lambda);
    let best = { gain: -Infinity, cut: 0, missingLeft: false, gl: 0, nl: 0 };
    const G = g.reduce((s, v) => s + v, 0);
    for (let cut = 0; cut < 19; cut++) {
      for (const missingLeft of [false, true]) {
        let gl = 0;
        let nl = 0;
        for (let i = 0; i < data.n; i++) {
          if (Number.isNaN(x[i]) ? missingLeft : x[i] <= cut) [gl, nl] = [gl + g[i], nl + 1];
        }
        const gain = score(gl, nl) + score(G - gl, data.n - nl) - score(G, data.n);
        if (gain > best.gain + 1e-9) best = { gain, cut, missingLeft, gl, nl };
      }
    }
    const probe: RawBatch = { n: 3, schema: NUMERIC_SCHEMA, columns: [Float32Array.of(best.cut, best.cut + 1, NaN)] };
    const out = predictAll(m, probe);
    const base = Math.log(p0 / (1 - p0));
    const leftValue = (-best.gl / (best.nl * h + params.lambda)) * params.learningRate;
    const rightValue = (-(G - best.gl) / ((data.n - best.nl) * h + params.lambda)) * params.learningRate;
    const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
    expect(out[0]).toBeCloseTo(sigmoid(base + leftValue), 5);
    expect(out[1]).toBeCloseTo(sigmoid(base + rightValue), 5);
    expect(out[2]).toBeCloseTo(sigmoid(base + (best.missingLeft ? leftValue : rightValue)), 5);
  });

  it('learns where missing values go: rows missing in serving follow the side learned in training', async () => {
    for (const missingCtr of [0.02, 0.8]) {
      const m = new GbdtLearner(NUMERIC_SCHEMA, GbdtParams.parse({ trees: 30, threads: 1 }));
      await m.fit(sourceOf(steps(20_000, 5, missingCtr), 1000));
      const [missing] = predictAll(m, { n: 1, schema: NUMERIC_SCHEMA, columns: [Float32Array.of(NaN)] });
      expect(missing).toBeCloseTo(missingCtr, 1);
    }
  });

  it('builds the same model with worker threads as without (features split, not rows)', async () => {
    const data = syntheticBatch(30_000, 7);
    const fit = async (threads: number) => {
      const m = new GbdtLearner(SYNTHETIC_SCHEMA, GbdtParams.parse({ trees: 8, maxLeaves: 15, threads }));
      await m.fit(sourceOf(data, 4096));
      return m.toArtifact().tensors;
    };
    const [one, two] = [await fit(1), await fit(2)];
    expect(two).toEqual(one);
    expect((one['tree.feature'] as Int32Array).length).toBe(8 * 29);
  });

  it('stops early on the validation rows and keeps the best round', async () => {
    const train = syntheticBatch(6000, 8);
    const validation = syntheticBatch(3000, 9);
    const m = new GbdtLearner(SYNTHETIC_SCHEMA, GbdtParams.parse({ trees: 400, learningRate: 0.5, maxLeaves: 63, minChildWeight: 0, earlyStoppingRounds: 5, threads: 1 }));
    const report = await m.fit(sourceOf(train, 1000), { validation: sourceOf(validation, 1000) });
    expect(report.rounds).toBeLessThan(400);
    expect(report.rounds - report.trees).toBe(5);
    expect(m.trees).toBe(report.trees);
    expect(report.trainRows).toBe(6000);
    expect(report.validationRows).toBe(3000);
    expect(logloss(predictAll(m, validation), validation.labels!)).toBeCloseTo(report.validationLogloss!, 5);
  });

  it('holds out the last rows for early stopping when fit gets no validation data', async () => {
    const m = new GbdtLearner(SYNTHETIC_SCHEMA, GbdtParams.parse({ validationFraction: 0.25, threads: 1 }));
    const report = await m.fit(sourceOf(syntheticBatch(8000, 10), 1000));
    expect([report.trainRows, report.validationRows, report.examples]).toEqual([6000, 2000, 8000]);
  });

  it('gives peers the exact features it trains on, and the features it predicts from', async () => {
    const data = syntheticBatch(4000, 13);
    const params = GbdtParams.parse({ threads: 1 });
    const { names, train, valid } = await gbdtTrainingMatrices(SYNTHETIC_SCHEMA, sourceOf(data, 1000), params);
    expect(names).toEqual(['ad:count', 'ad:ctr', 'site:count', 'site:ctr', 'count']);
    expect([train.n, valid!.n]).toEqual([3600, 400]);
    // Training rows: out-of-fold click rates differ from the full-slice rates the model serves with.
    const m = new GbdtLearner(SYNTHETIC_SCHEMA, params);
    await m.fit(sourceOf(data, 1000));
    const served = m.features({ ...data, n: 3600, columns: data.columns.map((c) => c.subarray(0, 3600)) });
    const column = (f: number) => Float32Array.from({ length: 3600 }, (_, r) => served[r * names.length + f]);
    expect(column(0)).toEqual(train.columns[0]);
    expect(column(4)).toEqual(train.columns[4]);
    expect(column(1)).not.toEqual(train.columns[1]);
    expect(Math.max(...column(1).map((v, r) => Math.abs(v - train.columns[1][r])))).toBeLessThan(0.1);
  });

  it('turns categorical values into count and click-rate features that beat the hashed-value baseline', async () => {
    const train = syntheticBatch(20_000, 14, { ads: 200 });
    const test = syntheticBatch(5000, 15, { ads: 200 });
    const m = new GbdtLearner(SYNTHETIC_SCHEMA, GbdtParams.parse({ threads: 1 }));
    await m.fit(sourceOf(train, 2000));
    expect(auc(predictAll(m, test), test.labels!)).toBeGreaterThan(auc(test.truth, test.labels!) - 0.02);
  });

  it('scores a batch of 100 candidates the same as one at a time, and writes a compact artifact', async () => {
    const m = new GbdtLearner(SYNTHETIC_SCHEMA, GbdtParams.parse({ trees: 20, threads: 1 }));
    await m.fit(sourceOf(syntheticBatch(5000, 16), 1000));
    const batch = syntheticBatch(100, 17);
    const whole = predictAll(m, batch);
    const single = new Float32Array(1);
    for (let r = 0; r < 100; r++) {
      m.predict({ n: 1, schema: batch.schema, columns: batch.columns.map((c) => c.subarray(r, r + 1)) }, single);
      expect(single[0]).toBe(whole[r]);
    }
    expect(encodeArtifact(m.toArtifact()).length).toBeLessThan(64 * 1024);
  });

  it('checks its parameters', () => {
    expect(() => createLearner('gbdt', { maxBin: 256, maxLeafs: 3 }, SYNTHETIC_SCHEMA)).toThrow(/invalid gbdt parameters: .*maxBin.*unknown parameter maxLeafs/);
  });
});
