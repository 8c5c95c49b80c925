import { describe, expect, it } from 'vitest';
import { sourceOf, SYNTHETIC_SCHEMA, syntheticBatch } from '../../../test/helpers/synthetic-ctr.ts';
import { decodeArtifact, encodeArtifact } from '../artifact.ts';
import { createLearner, modelFromArtifact } from '../factory.ts';
import { evaluate } from '../metrics/metrics.ts';

describe('numeric=quantile', () => {
  // The deep model needs more than one pass at its default rate to learn 3000 rows.
  const extra: Record<string, Record<string, unknown>> = { dcn: { epochs: 4, lr: 0.01 } };
  for (const kind of ['ftrl', 'fm', 'ffm', 'dcn'] as const) {
    it(`${kind}: a learner is made before its bins exist, fits them in fit, and keeps them in its artifact`, async () => {
      const learner = createLearner(kind, { numeric: 'quantile', quantileBins: 8, bits: 14, ...extra[kind] }, SYNTHETIC_SCHEMA);
      const test = syntheticBatch(500, 12);
      // Scoring before fit has no bins to read: a clear error, not a guess.
      expect(() => learner.predict(test, new Float32Array(test.n))).toThrow(/quantile bins of numeric field \w+ are not fitted/);
      await learner.fit(sourceOf(syntheticBatch(3000, 11)));
      const p = new Float32Array(test.n);
      learner.predict(test, p);
      expect(p.every((x) => x > 0 && x < 1)).toBe(true);
      expect(evaluate(p, test.labels!).auc).toBeGreaterThan(0.55);
      const loaded = modelFromArtifact(decodeArtifact(encodeArtifact(learner.toArtifact())));
      const q = new Float32Array(test.n);
      loaded.predict(test, q);
      expect(Array.from(q)).toEqual(Array.from(p));
    });
  }
});
