import { describe, expect, it } from 'vitest';
import { modelContract } from '../../../test/contracts/model.contract.ts';
import { factorizationChecks } from '../../../test/helpers/factorization-checks.ts';
import { ReferenceFactorization } from '../../../test/helpers/factorization-reference.ts';
import { SYNTHETIC_SCHEMA, syntheticBatch } from '../../../test/helpers/synthetic-ctr.ts';
import { createLearner } from '../factory.ts';
import { FmLearner, FmParams } from './fm.ts';

modelContract('fm', (schema) => createLearner('fm', { epochs: 2, shuffleWindow: 4096 }, schema));
modelContract('fm (mini-batches, FTRL linear term)', (schema) => createLearner('fm', { epochs: 3, batchSize: 32, lr: 0.2, linearOptimizer: 'ftrl' }, schema));

describe('FmLearner', () => {
  factorizationChecks(
    'fm',
    (params) => new FmLearner(SYNTHETIC_SCHEMA, FmParams.parse(params)),
    (p, m) => new ReferenceFactorization('fm', p, 1, m.encoder.biasField),
  );

  it('keeps every gradient of a mini-batch that touches more linear rows than its sums first had room for', () => {
    // One batch of 3000 rows with ~1900 distinct ads: the linear term's gradient sums (room for 1024 rows at first)
    // grow mid-batch; a gradient written to the sums before they grew would be lost (an error of ~6e-5 here).
    const m = new FmLearner(SYNTHETIC_SCHEMA, FmParams.parse({ dim: 4, lr: 0.5, l2: 0, initialAccumulator: 0.1, batchSize: 3000, bits: 20 }));
    const ref = new ReferenceFactorization('fm', m.params, 1, m.encoder.biasField);
    const train = m.encoder.encode(syntheticBatch(3000, 41, { ads: 3000 }));
    ref.learn(train);
    m.learnEncoded(train);
    const out = new Float32Array(train.n);
    m.scoreEncoded(train, out);
    let worst = 0;
    for (let r = 0; r < train.n; r++) worst = Math.max(worst, Math.abs(out[r] - 1 / (1 + Math.exp(-ref.logit(train, r)))));
    expect(worst).toBeLessThan(1e-6);
  });

  it('checks its parameters, including a dim the 4-lane kernels can run', () => {
    expect(() => createLearner('fm', { dim: 6, lrr: 1 }, SYNTHETIC_SCHEMA)).toThrow(/invalid fm parameters: .*dim must be a multiple of 4.*unknown parameter lrr/);
  });
});
