/**
 * Per-feature contributions for the prediction inspector: each feature's additive share of a row's
 * logit (before post-hoc calibration), so they sum to the raw logit. A capability of the models
 * whose logit is a sum over features:
 *   FTRL (logistic regression): feature i contributes w_i·x_i; the bias token is `(bias)`.
 *   FM: feature i contributes w_i·x_i + ½·x_i·⟨v_i, Σ_{j≠i} v_j·x_j⟩, i.e. its linear term and half
 *   of every interaction it takes part in (the pairwise sum split evenly between the two features).
 * Declared crosses are features of their own (`a×b`). Other kinds (FFM, GBDT, DCN, ONNX) are not
 * explainable this way; `isExplainable` says so and the inspector shows their scores only.
 * Explaining reads the model's weights through its public surface and re-encodes the batch with the
 * model's own encoder; it is for inspection, not for the ranking path.
 */
import type { RawBatch } from '../core/index.ts';
import type { EncodedBatch } from './encoding/encoder.ts';
import type { HashedModel } from './hashed-model.ts';
import { FmLearner } from './learners/fm.ts';
import { FtrlLearner } from './learners/ftrl.ts';
import type { Model } from './model.ts';

export interface FeatureContribution {
  /** Schema field name, `a×b` for a declared cross, `(bias)` for the intercept. */
  readonly feature: string;
  /** Share of the logit. */
  readonly weight: number;
}

export type ExplainableModel = FtrlLearner | FmLearner;

export function isExplainable(m: Model): m is ExplainableModel {
  return m instanceof FtrlLearner || m instanceof FmLearner;
}

/** Contributions of each of `rows` of `batch`, largest |weight| first. */
export function explainRows(model: ExplainableModel, batch: RawBatch, rows: readonly number[]): FeatureContribution[][] {
  const names = fieldNames(model);
  const enc = model.encoder.encode(batch);
  return rows.map((r) => {
    const weights = model instanceof FtrlLearner ? ftrlRow(model, enc, r) : fmRow(model, enc, r);
    const out: FeatureContribution[] = [];
    for (let k = 0; k < weights.length; k++) out.push({ feature: names[enc.fields[enc.offsets[r] + k]], weight: weights[k] });
    return out.sort((a, b) => Math.abs(b.weight) - Math.abs(a.weight));
  });
}

/** Name of each encoder field id: schema fields, then crosses, then the bias. */
function fieldNames(model: HashedModel): string[] {
  const enc = model.encoder;
  return [...enc.schema.fields.map((f) => f.name), ...enc.spec.crosses.map(([a, b]) => `${a}×${b}`), '(bias)'];
}

function ftrlRow(model: FtrlLearner, enc: EncodedBatch, r: number): Float64Array {
  const s = enc.offsets[r];
  const e = enc.offsets[r + 1];
  const out = new Float64Array(e - s);
  for (let k = s; k < e; k++) out[k - s] = model.weight(enc.indices[k]) * enc.values[k];
  return out;
}

function fmRow(model: FmLearner, enc: EncodedBatch, r: number): Float64Array {
  const s = enc.offsets[r];
  const e = enc.offsets[r + 1];
  const dim = model.params.dim;
  const bias = model.encoder.biasField;
  const { linear, factors } = model;
  const lin = linear.data;
  const v = factors.data;
  // S = Σ_j v_j·x_j over the row's non-bias tokens (the bias takes no part in interactions).
  const sum = new Float64Array(dim);
  for (let k = s; k < e; k++) {
    if (enc.fields[k] === bias) continue;
    const at = factors.offset(enc.indices[k]);
    for (let f = 0; f < dim; f++) sum[f] += v[at + f] * enc.values[k];
  }
  const out = new Float64Array(e - s);
  for (let k = s; k < e; k++) {
    const x = enc.values[k];
    let w = lin[enc.indices[k] * linear.stride] * x;
    if (enc.fields[k] !== bias) {
      const at = factors.offset(enc.indices[k]);
      let dot = 0;
      for (let f = 0; f < dim; f++) dot += v[at + f] * (sum[f] - v[at + f] * x);
      w += 0.5 * x * dot;
    }
    out[k - s] = w;
  }
  return out;
}
