import { describe, expect, it } from 'vitest';
import { modelContract } from '../../../test/contracts/model.contract.ts';
import { factorizationChecks } from '../../../test/helpers/factorization-checks.ts';
import { ReferenceFactorization } from '../../../test/helpers/factorization-reference.ts';
import { SYNTHETIC_SCHEMA } from '../../../test/helpers/synthetic-ctr.ts';
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

  it('checks its parameters, including a dim the 4-lane kernels can run', () => {
    expect(() => createLearner('fm', { dim: 6, lrr: 1 }, SYNTHETIC_SCHEMA)).toThrow(/invalid fm parameters: .*dim must be a multiple of 4.*unknown parameter lrr/);
  });
});
