/**
 * Field-aware factorization machine (Juan et al., RecSys 2016; libffm) over hashed features. Each
 * token j keeps one latent vector per field it can meet, w_{j,f}, and a pair of tokens (a, b) of
 * fields (f_a, f_b) interacts through ⟨w_{a,f_b}, w_{b,f_a}⟩ x_a x_b: O(n²·k) per row. The token
 * slot of the shared encoder is the field id (schema fields, then crosses); the bias token carries
 * the global bias in the linear term and has no factors, so a token has fieldCount − 1 vectors.
 * Factor rows are (bucket, field) pairs, row = bucket · (fieldCount − 1) + field, each followed by its
 * AdaGrad accumulators as in libffm's layout, so a pair reads two 2k-float blocks; the pair loop and
 * its AdaGrad steps run in factor-kernels.ts. A bucket's vectors are initialized together.
 */
import type { FeatureSchema } from '../../core/index.ts';
import { NO_CALIBRATION, type CalibrationSpec } from '../calibration.ts';
import type { EncodedBatch } from '../encoding/encoder.ts';
import { encodingSpecOf, type EncodingSpec } from '../encoding/encoding-spec.ts';
import type { Artifact } from '../model.ts';
import { artifactSettings, FactorizationModel, FactorizationParams } from './factorization.ts';

/** libffm's defaults where they apply (k = 4); 2^18 buckets keep the table near 300 MB for Criteo's 39 fields. */
export const FfmParams = FactorizationParams.extend({
  bits: FactorizationParams.shape.bits.unwrap().default(18),
  dim: FactorizationParams.shape.dim.unwrap().default(4),
});
export type FfmParams = FactorizationParams;

export class FfmLearner extends FactorizationModel {
  readonly kind = 'ffm';
  /** Factor vectors per bucket: every field but the bias. */
  private readonly vectorsPerToken: number;

  constructor(schema: FeatureSchema, params: FfmParams, encoding: EncodingSpec = encodingSpecOf(params), calibration: CalibrationSpec = NO_CALIBRATION) {
    super('ffm', schema, params, encoding, calibration);
    this.vectorsPerToken = Math.max(1, this.encoder.fieldCount - 1);
  }

  static fromArtifact(artifact: Artifact): FfmLearner {
    const { params, encoding, calibration } = artifactSettings('ffm', FfmParams, artifact);
    const model = new FfmLearner(artifact.header.schema, params, encoding, calibration);
    model.loadTables(artifact);
    return model;
  }

  protected stage(enc: EncodedBatch, s: number, e: number, touch: boolean): number {
    const { indices, values, fields } = enc;
    const { base, field, value, bucket } = this.kernels;
    const bias = this.encoder.biasField;
    const per = this.vectorsPerToken;
    const factors = this.factors;
    let n = 0;
    for (let k = s; k < e; k++) {
      if (fields[k] === bias) continue;
      const first = indices[k] * per;
      if (touch) factors.touchGroup(indices[k]);
      base[n] = first;
      bucket[n] = indices[k];
      field[n] = fields[k];
      value[n++] = values[k];
    }
    return n;
  }
}
