import { describe, expect, it } from 'vitest';
import { sourceOf, SYNTHETIC_SCHEMA, syntheticBatch } from '../../../test/helpers/synthetic-ctr.ts';
import { evaluateModel } from '../evaluate.ts';
import { createLearner } from '../factory.ts';
import { trainModel } from './train-model.ts';

const learner = () => createLearner('ftrl', { alpha: 0.1, l1: 0.1 }, SYNTHETIC_SCHEMA);

describe('trainModel', () => {
  it('corrects for negative downsampling so predictions keep the true click rate', async () => {
    const train = syntheticBatch(40_000, 1, { base: -2.5 });
    const test = syntheticBatch(10_000, 2, { base: -2.5 });
    const m = learner();
    const report = await trainModel(m, { train: sourceOf(train, 2000), downsampleRate: 0.2, seed: 3 });
    expect(report.calibration).toEqual({ method: 'none', downsampleRate: 0.2 });
    // About 1 in 5 negatives kept, every click kept.
    const clicks = train.labels!.reduce((s, y) => s + y, 0);
    expect(report.fit.examples).toBeGreaterThan(clicks + 0.18 * (train.n - clicks));
    expect(report.fit.examples).toBeLessThan(clicks + 0.22 * (train.n - clicks));
    const corrected = await evaluateModel(m, sourceOf(test)());
    expect(Math.abs(corrected.calibration - 1)).toBeLessThan(0.1);
    m.setCalibration({ method: 'none', downsampleRate: 1 });
    expect((await evaluateModel(m, sourceOf(test)())).calibration).toBeGreaterThan(1.8);
  });

  it('fits the chosen calibration on the holdout and reports metrics before and after', async () => {
    const m = learner();
    const report = await trainModel(m, {
      train: sourceOf(syntheticBatch(20_000, 4)),
      holdout: sourceOf(syntheticBatch(5_000, 5)),
      calibration: 'isotonic',
    });
    expect(report.calibration.method).toBe('isotonic');
    expect(m.calibration).toEqual(report.calibration);
    expect(report.holdout!.raw.n).toBe(5000);
    expect(report.holdout!.calibrated!.logloss).toBeLessThanOrEqual(report.holdout!.raw.logloss);
    expect(Math.abs(report.holdout!.calibrated!.calibration - 1)).toBeLessThan(0.01);
  });

  it('needs held-out data to calibrate, and both classes in it', async () => {
    await expect(trainModel(learner(), { train: sourceOf(syntheticBatch(100, 6)), calibration: 'platt' })).rejects.toMatchObject({ code: 'PCTR_VALIDATION' });
    const oneClass = syntheticBatch(500, 7);
    oneClass.labels!.fill(1);
    await expect(trainModel(learner(), { train: sourceOf(syntheticBatch(2000, 6)), holdout: sourceOf(oneClass), calibration: 'platt' })).rejects.toMatchObject({
      code: 'PCTR_DATA_INVALID',
      message: expect.stringContaining('held-out data has a single class'),
    });
  });
});
