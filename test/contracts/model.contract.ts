/**
 * The Model contract suite, run on every learner (src/models/learners/*.test.ts call it with a
 * factory). Generic checks in the spirit of river's: it learns a known signal, probabilities are
 * finite and in [0, 1] even for unseen and missing values, predictions do not depend on column
 * order or batch size, seeded training is deterministic, artifacts round-trip exactly (calibration
 * included), corrupt artifacts and single-class data fail with clear errors.
 */
import { describe, expect, it } from 'vitest';
import type { FeatureSchema, RawBatch } from '../../src/core/index.ts';
import { auc, encodeArtifact, isOnlineLearner, loadModel, logloss, type CalibratedLearner, type Model } from '../../src/models/index.ts';
import { sourceOf, SYNTHETIC_SCHEMA, syntheticBatch } from '../helpers/synthetic-ctr.ts';

export type LearnerFactory = (schema: FeatureSchema) => CalibratedLearner;

function predictAll(model: Model, batch: RawBatch): Float32Array {
  const out = new Float32Array(batch.n);
  model.predict(batch, out);
  return out;
}

export function modelContract(name: string, make: LearnerFactory): void {
  describe(`Model contract: ${name}`, () => {
    const train = syntheticBatch(20_000, 11);
    const test = syntheticBatch(5_000, 12);

    const trained = async (): Promise<CalibratedLearner> => {
      const m = make(SYNTHETIC_SCHEMA);
      await m.fit(sourceOf(train, 1000));
      return m;
    };

    it('learns a known click model close to the oracle', async () => {
      const m = await trained();
      const p = predictAll(m, test);
      const oracle = auc(test.truth, test.labels!);
      expect(auc(p, test.labels!)).toBeGreaterThan(oracle - 0.03);
      expect(logloss(p, test.labels!)).toBeLessThan(logloss(test.truth, test.labels!) + 0.02);
    });

    it('gives finite probabilities in [0, 1] for unseen values and all-missing rows', async () => {
      const m = await trained();
      const odd: RawBatch = {
        n: 3,
        schema: SYNTHETIC_SCHEMA,
        columns: [Int32Array.of(0, 12345, -7), Int32Array.of(0, 99, 1), Float32Array.of(NaN, 1e30, -5)],
      };
      for (const p of predictAll(m, odd)) {
        expect(Number.isFinite(p)).toBe(true);
        expect(p).toBeGreaterThanOrEqual(0);
        expect(p).toBeLessThanOrEqual(1);
      }
    });

    it('does not depend on column order or batch size', async () => {
      const m = await trained();
      const whole = predictAll(m, test);
      const order = [2, 0, 1];
      const reordered: RawBatch = { ...test, schema: { fields: order.map((i) => test.schema.fields[i]) }, columns: order.map((i) => test.columns[i]) };
      expect(predictAll(m, reordered)).toEqual(whole);
      const halves = new Float32Array(test.n);
      const cut = 1234;
      m.predict({ ...test, n: cut, columns: test.columns.map((c) => c.subarray(0, cut)) }, halves.subarray(0, cut));
      m.predict({ ...test, n: test.n - cut, columns: test.columns.map((c) => c.subarray(cut)) }, halves.subarray(cut));
      expect(halves).toEqual(whole);
    });

    it('trains deterministically', async () => {
      const [a, b] = [await trained(), await trained()];
      expect(a.toArtifact().tensors).toEqual(b.toArtifact().tensors);
    });

    it('round-trips through its artifact exactly, calibration and training range included', async () => {
      const m = await trained();
      m.setCalibration({ method: 'platt', downsampleRate: 0.5, platt: { a: 0.9, b: 0.1 } });
      const bytes = encodeArtifact(m.toArtifact());
      const loaded = loadModel(bytes);
      expect(loaded.kind).toBe(m.kind);
      expect(loaded.schema).toEqual(m.schema);
      expect(predictAll(loaded, test)).toEqual(predictAll(m, test));
      expect(encodeArtifact(loaded.toArtifact())).toEqual(bytes);
      expect(loaded.toArtifact().header.trainedOn).toEqual({ from: 0, to: train.n - 1, rows: train.n, source: '' });
    });

    it('refuses a corrupted artifact with PCTR_ARTIFACT_CORRUPT', async () => {
      const bytes = Uint8Array.from(encodeArtifact((await trained()).toArtifact()));
      bytes[bytes.length - 1] ^= 1;
      expect(() => loadModel(bytes)).toThrow(expect.objectContaining({ code: 'PCTR_ARTIFACT_CORRUPT' }));
    });

    it('refuses single-class training data with a clear error', async () => {
      const allNegative = syntheticBatch(500, 3);
      allNegative.labels!.fill(0);
      await expect(make(SYNTHETIC_SCHEMA).fit(sourceOf(allNegative))).rejects.toMatchObject({
        code: 'PCTR_DATA_INVALID',
        message: expect.stringContaining('all 500 labels are 0'),
      });
    });

    it('learns online when it is an online learner (progressive validation improves)', async () => {
      const m = make(SYNTHETIC_SCHEMA);
      if (!isOnlineLearner(m)) return;
      const stream = syntheticBatch(20_000, 21);
      const out = new Float32Array(stream.n);
      const step = 500;
      for (let from = 0; from < stream.n; from += step) {
        const slice: RawBatch = { ...stream, n: step, columns: stream.columns.map((c) => c.subarray(from, from + step)), labels: stream.labels!.subarray(from, from + step) };
        m.predict(slice, out.subarray(from, from + step));
        m.update(slice);
      }
      const early = logloss(out.subarray(0, 1000), stream.labels!.subarray(0, 1000));
      const late = logloss(out.subarray(15_000), stream.labels!.subarray(15_000));
      expect(late).toBeLessThan(early);
      expect(auc(out.subarray(15_000), stream.labels!.subarray(15_000))).toBeGreaterThan(auc(stream.truth.subarray(15_000), stream.labels!.subarray(15_000)) - 0.03);
    });
  });
}
