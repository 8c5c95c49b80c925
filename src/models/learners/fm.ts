/**
 * Factorization machine (Rendle, ICDM 2010) over hashed features:
 *   logit = Σ_i w_i x_i + Σ_{i<j} ⟨v_i, v_j⟩ x_i x_j,
 * the pairwise term in O(k·n) with the sum-of-squares identity
 *   Σ_{i<j} ⟨v_i, v_j⟩ x_i x_j = ½ Σ_f [(Σ_i v_if x_i)² − Σ_i v_if² x_i²],
 * whose gradient for v_if is x_i (S_f − v_if x_i), with S_f = Σ_j v_jf x_j from the forward pass
 * (factor-kernels.ts). One factor vector per hash bucket; the bias token carries the global bias
 * in the linear term and takes no part in interactions.
 */
import type { FeatureSchema } from '../../core/index.ts';
import { NO_CALIBRATION, type CalibrationSpec } from '../calibration.ts';
import type { EncodedBatch } from '../encoding/encoder.ts';
import { encodingSpecOf, type EncodingSpec } from '../encoding/encoding-spec.ts';
import type { Artifact } from '../model.ts';
import { artifactSettings, FactorizationModel, FactorizationParams } from './factorization.ts';

export const FmParams = FactorizationParams;
export type FmParams = FactorizationParams;

export class FmLearner extends FactorizationModel {
  readonly kind = 'fm';

  constructor(schema: FeatureSchema, params: FmParams, encoding: EncodingSpec = encodingSpecOf(params), calibration: CalibrationSpec = NO_CALIBRATION) {
    super('fm', schema, params, encoding, calibration);
  }

  static fromArtifact(artifact: Artifact): FmLearner {
    const { params, encoding, calibration } = artifactSettings('fm', FmParams, artifact);
    const model = new FmLearner(artifact.header.schema, params, encoding, calibration);
    model.loadTables(artifact);
    return model;
  }

  protected stage(enc: EncodedBatch, s: number, e: number, touch: boolean): number {
    const { indices, values, fields } = enc;
    const { base, value, bucket } = this.kernels;
    const bias = this.encoder.biasField;
    const factors = this.factors;
    let n = 0;
    for (let k = s; k < e; k++) {
      if (fields[k] === bias) continue;
      // One vector per bucket: the bucket is its own group.
      if (touch) factors.touchGroup(indices[k]);
      base[n] = indices[k];
      bucket[n] = indices[k];
      value[n++] = values[k];
    }
    return n;
  }
}
