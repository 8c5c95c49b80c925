/**
 * FTRL-Proximal logistic regression (McMahan et al., KDD 2013) over hashed features. Per
 * coordinate i it keeps z_i and √n_i, interleaved in one Float32Array so one cache line serves
 * both and 2^20 coordinates take 8 MB (the paper found reduced-precision state costs no
 * measurable loss). The weight is derived lazily:
 *   w_i = 0 if |z_i| ≤ λ1, else −(z_i − sign(z_i)·λ1) / ((β + √n_i)/α + λ2);
 * after predicting p for a row with label y, each active coordinate takes g_i = (p − y)·x_i,
 *   σ_i = (√(n_i + g_i²) − √n_i)/α,  z_i += g_i − σ_i·w_i,  n_i += g_i².
 * Storing √n_i rather than n_i leaves one square root per update. Tokens that collide within a
 * row are learned as separate features sharing a coordinate.
 */
import { z } from 'zod';
import { PctrError } from '../../core/index.ts';
import type { FeatureSchema, RawBatch } from '../../core/index.ts';
import { CalibrationSpec, NO_CALIBRATION } from '../calibration.ts';
import type { EncodedBatch } from '../encoding/encoder.ts';
import { EncodingParams, EncodingSpec, encodingSpecOf } from '../encoding/encoding-spec.ts';
import { HashedModel } from '../hashed-model.ts';
import type { Artifact, FitOptions, FitReport, OnlineLearner } from '../model.ts';
import { fitEpochs, type EncodedTrainer } from '../training/fit-loop.ts';
import { fitQuantileEncoding } from '../training/quantile-fit.ts';

export const FtrlParams = z.strictObject({
  ...EncodingParams.shape,
  /** Per-coordinate learning rate scale. */
  alpha: z.coerce.number().positive().default(0.1),
  /** Smooths the learning rate of rarely seen coordinates. */
  beta: z.coerce.number().min(0).default(1),
  /** L1 strength: coordinates with |z| ≤ l1 have weight 0 (sparsity). */
  l1: z.coerce.number().min(0).default(0.1),
  l2: z.coerce.number().min(0).default(1),
  epochs: z.coerce.number().int().min(1).max(1000).default(1),
  /** Rows per shuffled window in fit (0 = file order). */
  shuffleWindow: z.coerce.number().int().min(0).max(10_000_000).default(0),
  seed: z.coerce.number().int().default(1),
});
export type FtrlParams = z.output<typeof FtrlParams>;

const MAX_LOGIT = 35;
const EPS = 1e-15;

/**
 * −(z − sign(z)·λ1) / D when |z| > λ1, else 0, written without branches: the sign of z is as good
 * as random per coordinate, and a mispredicted branch per token costs more than the arithmetic.
 * `base` is β/α + λ2, so D = base + √n/α.
 */
function weightOf(z: number, root: number, l1: number, base: number, invAlpha: number): number {
  const a = Math.abs(z);
  const t = a - l1;
  return (-z * (t + Math.abs(t))) / (2 * (a + 1e-30) * (base + root * invAlpha));
}

export class FtrlLearner extends HashedModel implements OnlineLearner, EncodedTrainer {
  readonly kind = 'ftrl';
  readonly params: FtrlParams;
  /** z_i at 2i, √n_i at 2i + 1. */
  private readonly state: Float32Array;
  /** Running sums of scoreEncodedWith's rows (reused). */
  private dots = new Float64Array(0);
  private weights = new Float64Array(64);

  constructor(schema: FeatureSchema, params: FtrlParams, encoding: EncodingSpec = encodingSpecOf(params), calibration: CalibrationSpec = NO_CALIBRATION) {
    super(schema, encoding, calibration);
    this.params = params;
    this.state = new Float32Array(2 * this.encoder.dimension);
  }

  static fromArtifact(artifact: Artifact): FtrlLearner {
    const { header, tensors } = artifact;
    const params = FtrlParams.safeParse(header.params);
    const encoding = EncodingSpec.safeParse(header.encoding);
    const calibration = CalibrationSpec.safeParse(header.calibration ?? NO_CALIBRATION);
    if (!params.success || !encoding.success || !calibration.success) {
      const issue = [params, encoding, calibration].find((r) => !r.success)!.error!.issues[0];
      throw new PctrError('PCTR_ARTIFACT_CORRUPT', `ftrl artifact has invalid settings at ${issue.path.join('.') || '(root)'}: ${issue.message}`);
    }
    const model = new FtrlLearner(header.schema, params.data, encoding.data, calibration.data);
    const { index, z: zs, sqrtN } = tensors;
    const dim = model.encoder.dimension;
    if (!(index instanceof Int32Array) || !(zs instanceof Float32Array) || !(sqrtN instanceof Float32Array) || zs.length !== index.length || sqrtN.length !== index.length) {
      throw new PctrError('PCTR_ARTIFACT_CORRUPT', 'ftrl artifact needs tensors index (i32), z and sqrtN (f32) of equal length');
    }
    for (let k = 0; k < index.length; k++) {
      const i = index[k];
      if (i < 0 || i >= dim) throw new PctrError('PCTR_ARTIFACT_CORRUPT', `ftrl artifact coordinate ${i} is outside 2^${encoding.data.bits}`);
      model.state[2 * i] = zs[k];
      model.state[2 * i + 1] = sqrtN[k];
    }
    model.restore(header);
    return model;
  }

  async fit(data: () => AsyncIterable<RawBatch>, opts: FitOptions = {}): Promise<FitReport> {
    if (this.encoder.spec.numeric === 'quantile' && !this.encoder.spec.boundaries) {
      this.setEncoding(await fitQuantileEncoding(this.schema, this.encoder.spec, data));
    }
    const p = this.params;
    const r = await fitEpochs(this, data, { ...opts, epochs: p.epochs, shuffleWindow: p.shuffleWindow, seed: p.seed });
    this.trainedOn = { from: r.from, to: r.to, rows: r.examples, source: opts.source ?? '' };
    this.createdAt = new Date().toISOString();
    return { examples: r.examples, epochs: r.epochs, seconds: r.seconds, trainLogloss: r.trainLogloss };
  }

  update(batch: RawBatch): void {
    if (!batch.labels) throw new PctrError('PCTR_DATA_INVALID', 'update needs a labeled batch');
    this.learnEncoded(this.encoder.encode(batch));
  }

  /** Current weight of coordinate i (0 for coordinates L1 keeps at zero). */
  weight(i: number): number {
    const { alpha, beta, l1, l2 } = this.params;
    return weightOf(this.state[2 * i], this.state[2 * i + 1], l1, beta / alpha + l2, 1 / alpha) || 0;
  }

  /** Accumulators of coordinate i, for inspection. */
  accumulators(i: number): { z: number; n: number } {
    return { z: this.state[2 * i], n: this.state[2 * i + 1] ** 2 };
  }

  learnEncoded(enc: EncodedBatch, order?: Int32Array): number {
    const labels = enc.labels;
    if (!labels) throw new PctrError('PCTR_DATA_INVALID', 'training batches must carry labels');
    const { offsets, indices, values } = enc;
    const state = this.state;
    const { alpha, beta, l1, l2 } = this.params;
    const invAlpha = 1 / alpha;
    const base = beta / alpha + l2;
    let loss = 0;
    for (let t = 0; t < enc.n; t++) {
      const r = order === undefined ? t : order[t];
      const s = offsets[r];
      const e = offsets[r + 1];
      if (e - s > this.weights.length) this.weights = new Float64Array(2 * (e - s));
      const ws = this.weights;
      let dot = 0;
      for (let k = s, j = 0; k < e; k++, j++) {
        const i2 = indices[k] << 1;
        const w = weightOf(state[i2], state[i2 + 1], l1, base, invAlpha);
        ws[j] = w;
        dot += w * values[k];
      }
      const p = 1 / (1 + Math.exp(dot > MAX_LOGIT ? -MAX_LOGIT : dot < -MAX_LOGIT ? MAX_LOGIT : -dot));
      const y = labels[r];
      // Probability of the observed label, without a branch on the (unpredictable) label.
      loss -= Math.log(Math.max(y * p + (1 - y) * (1 - p), EPS));
      const g0 = p - y;
      for (let k = s, j = 0; k < e; k++, j++) {
        const i2 = indices[k] << 1;
        const g = g0 * values[k];
        const root = state[i2 + 1];
        const next = Math.sqrt(root * root + g * g);
        state[i2] += g - (next - root) * invAlpha * ws[j];
        state[i2 + 1] = next;
      }
    }
    return loss;
  }

  scoreEncoded(enc: EncodedBatch, out: Float32Array): void {
    this.scoreEncodedWith(enc, 0, null, out);
  }

  /**
   * scoreEncoded, with `extra(dots, n)` adding to each row's running sum the terms that are not in
   * `enc`, after the row's first `split` tokens (GBDT+LR's leaf weights, in the order its encoded
   * rows would hold them), so every row's sum is the one scoreEncoded would make of the whole row.
   * Rows are summed in three passes (tokens before the split, the extra terms, the rest), so
   * `extra` can walk its terms term by term over all rows.
   */
  scoreEncodedWith(enc: EncodedBatch, split: number, extra: ((dots: Float64Array, n: number) => void) | null, out: Float32Array): void {
    const { offsets, indices, values } = enc;
    const n = enc.n;
    const state = this.state;
    const { alpha, beta, l1, l2 } = this.params;
    const invAlpha = 1 / alpha;
    const base = beta / alpha + l2;
    if (this.dots.length < n) this.dots = new Float64Array(Math.max(n, 2 * this.dots.length));
    const dots = this.dots;
    const head = extra === null ? 0 : split;
    for (let r = 0; r < n; r++) {
      let dot = 0;
      for (let k = offsets[r], e = Math.min(offsets[r + 1], k + head); k < e; k++) {
        const i2 = indices[k] << 1;
        dot += weightOf(state[i2], state[i2 + 1], l1, base, invAlpha) * values[k];
      }
      dots[r] = dot;
    }
    extra?.(dots, n);
    for (let r = 0; r < n; r++) {
      let dot = dots[r];
      for (let k = Math.min(offsets[r + 1], offsets[r] + head), e = offsets[r + 1]; k < e; k++) {
        const i2 = indices[k] << 1;
        dot += weightOf(state[i2], state[i2 + 1], l1, base, invAlpha) * values[k];
      }
      out[r] = 1 / (1 + Math.exp(dot > MAX_LOGIT ? -MAX_LOGIT : dot < -MAX_LOGIT ? MAX_LOGIT : -dot));
    }
  }

  /** Only touched coordinates are stored, so the artifact grows with the data, not with 2^bits. */
  toArtifact(): Artifact {
    const state = this.state;
    let touched = 0;
    for (let i = 0; i < state.length; i += 2) if (state[i + 1] !== 0 || state[i] !== 0) touched++;
    const index = new Int32Array(touched);
    const zs = new Float32Array(touched);
    const sqrtN = new Float32Array(touched);
    for (let i = 0, k = 0; i < state.length; i += 2) {
      if (state[i + 1] === 0 && state[i] === 0) continue;
      index[k] = i >> 1;
      zs[k] = state[i];
      sqrtN[k++] = state[i + 1];
    }
    return { header: this.header(this.params), tensors: { index, z: zs, sqrtN } };
  }
}
