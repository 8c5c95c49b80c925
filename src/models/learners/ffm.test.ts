import { describe, expect, it } from 'vitest';
import { modelContract } from '../../../test/contracts/model.contract.ts';
import { factorizationChecks } from '../../../test/helpers/factorization-checks.ts';
import { ReferenceFactorization } from '../../../test/helpers/factorization-reference.ts';
import { SYNTHETIC_SCHEMA } from '../../../test/helpers/synthetic-ctr.ts';
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

  it('keeps one vector per bucket and field it can meet, libffm defaults otherwise', () => {
    const m = createLearner('ffm', {}, SYNTHETIC_SCHEMA) as FfmLearner;
    // 3 fields + bias: every bucket has a vector for each of the 3 non-bias fields.
    expect(m.factors.rows).toBe(3 * 2 ** 18);
    expect(m.params.dim).toBe(4);
  });
});
