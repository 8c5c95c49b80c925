import { describe, expect, it } from 'vitest';
import { sourceOf, SYNTHETIC_SCHEMA, syntheticBatch } from '../../test/helpers/synthetic-ctr.ts';
import { explainRows, isExplainable } from './explain.ts';
import { createLearner } from './factory.ts';

const logit = (p: number) => Math.log(p / (1 - p));

describe('explainRows', () => {
  for (const kind of ['ftrl', 'fm'] as const) {
    it(`${kind}: contributions sum to the logit of the uncalibrated score, one per field plus the bias`, async () => {
      const model = createLearner(kind, { bits: 16, crosses: 'ad:site' }, SYNTHETIC_SCHEMA);
      await model.fit(sourceOf(syntheticBatch(20_000, 3)));
      expect(isExplainable(model)).toBe(true);
      if (!isExplainable(model)) return;
      const batch = syntheticBatch(50, 9);
      const scores = new Float32Array(batch.n);
      model.predict(batch, scores);
      const rows = [0, 7, 49];
      const explained = explainRows(model, batch, rows);
      rows.forEach((r, i) => {
        const c = explained[i];
        expect(c.map((x) => x.feature).sort()).toEqual(['(bias)', 'ad', 'ad×site', 'count', 'site']);
        const sum = c.reduce((s, x) => s + x.weight, 0);
        expect(sum).toBeCloseTo(logit(scores[r]), 3);
        // Largest share first.
        for (let k = 1; k < c.length; k++) expect(Math.abs(c[k - 1].weight)).toBeGreaterThanOrEqual(Math.abs(c[k].weight));
      });
      // The learned ad effect is not nothing: some ad contributes visibly.
      const adShares = explainRows(model, batch, [...Array(batch.n).keys()]).map((c) => Math.abs(c.find((x) => x.feature === 'ad')!.weight));
      expect(Math.max(...adShares)).toBeGreaterThan(0.05);
    });
  }

  it('says tree models are not explainable', async () => {
    const model = createLearner('gbdt', { trees: 2 }, SYNTHETIC_SCHEMA);
    expect(isExplainable(model)).toBe(false);
  });
});
