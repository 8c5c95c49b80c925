import { describe, expect, it } from 'vitest';
import { modelContract } from '../../../test/contracts/model.contract.ts';
import { factorizationChecks } from '../../../test/helpers/factorization-checks.ts';
import { ReferenceFactorization } from '../../../test/helpers/factorization-reference.ts';
import { SYNTHETIC_SCHEMA, syntheticBatch } from '../../../test/helpers/synthetic-ctr.ts';
import { createLearner } from '../factory.ts';
import { FfmLearner, FfmParams } from './ffm.ts';

modelContract('ffm', (schema) => createLearner('ffm', { epochs: 2, shuffleWindow: 4096 }, schema));
modelContract('ffm (mini-batches)', (schema) => createLearner('ffm', { epochs: 3, batchSize: 32, lr: 0.2 }, schema));

describe('FfmLearner', () => {
  factorizationChecks(
    'ffm',
    (params) => new FfmLearner(SYNTHETIC_SCHEMA, FfmParams.parse(params)),
    (p, m) => new ReferenceFactorization('ffm', p, m.encoder.fieldCount - 1, m.encoder.biasField),
  );

  it('learns the reference model in mini-batches when two tokens of a row share a field', () => {
    // The accumulate kernel marks a token's used vectors per row (all fields but its own unless shared), not per pair.
    const m = new FfmLearner(SYNTHETIC_SCHEMA, FfmParams.parse({ dim: 8, lr: 0.1, initialAccumulator: 0.1, initScale: 0.2, batchSize: 16, bits: 20 }));
    const ref = new ReferenceFactorization('ffm', m.params, m.encoder.fieldCount - 1, m.encoder.biasField);
    const enc = m.encoder.encode(syntheticBatch(800, 51));
    const fields = enc.fields.slice();
    // Every other row: the site token takes the ad's field, so the ad and the site meet through each other's field-0 vectors.
    for (let r = 0; r < enc.n; r += 2) fields[enc.offsets[r] + 1] = fields[enc.offsets[r]];
    const train = { ...enc, fields };
    ref.learn(train);
    m.learnEncoded(train);
    const out = new Float32Array(train.n);
    m.scoreEncoded(train, out);
    let worst = 0;
    for (let r = 0; r < train.n; r++) worst = Math.max(worst, Math.abs(out[r] - 1 / (1 + Math.exp(-ref.logit(train, r)))));
    expect(worst).toBeLessThan(2e-4);
    expect(new Set(out).size).toBeGreaterThan(20);
  });

  it('keeps one vector per bucket and field it can meet, libffm defaults otherwise', () => {
    const m = createLearner('ffm', {}, SYNTHETIC_SCHEMA) as FfmLearner;
    // 3 fields + bias: every bucket has a vector for each of the 3 non-bias fields.
    expect(m.factors.rows).toBe(3 * 2 ** 18);
    expect(m.params.dim).toBe(4);
  });
});
