/**
 * The model contract. A model owns its encoding: it scores a columnar RawBatch (features as served)
 * and its artifact carries the feature spec it was trained with, so serving cannot encode differently
 * from training. Scoring is synchronous and allocation-free on the hot path (buffers are reused).
 */
import type { FeatureSchema, RawBatch } from '../core/index.ts';

/** A trained model as stored: a JSON header plus named binary tensors. Round trips exactly. */
export interface Artifact {
  readonly header: ArtifactHeader;
  readonly tensors: Readonly<Record<string, Float32Array | Float64Array | Int32Array | Uint8Array>>;
}

export interface ArtifactHeader {
  readonly format: 'pctr-model/1';
  readonly kind: string;
  readonly params: Readonly<Record<string, unknown>>;
  /** The raw input schema (field names and kinds) the model reads. */
  readonly schema: FeatureSchema;
  /** Encoder settings (hash bits, bins, crosses) — opaque outside models/. */
  readonly encoding: Readonly<Record<string, unknown>>;
  /** Post-hoc calibration and downsampling correction applied by predict. */
  readonly calibration?: Readonly<Record<string, unknown>>;
  readonly trainedOn?: { readonly from: number; readonly to: number; readonly rows: number; readonly source: string };
  readonly createdAt: string;
}

export interface Model {
  readonly kind: string;
  readonly schema: FeatureSchema;
  /** Calibrated click probabilities of batch rows into out[0..n). */
  predict(batch: RawBatch, out: Float32Array): void;
  toArtifact(): Artifact;
}

export interface FitOptions {
  /** Called with progress in [0, 1] and a short status line. */
  readonly onProgress?: (fraction: number, status: string) => void;
  /** Examples held out for early stopping / calibration, when the learner uses them. */
  readonly validation?: () => AsyncIterable<RawBatch>;
  readonly signal?: AbortSignal;
  /** What the data is (file path, query), recorded in the artifact's `trainedOn.source`. */
  readonly source?: string;
}

export interface FitReport {
  readonly examples: number;
  readonly epochs: number;
  readonly seconds: number;
  /** Progressive-validation logloss of the last epoch (each row scored before it was learned), when the learner tracks it. */
  readonly trainLogloss?: number;
  readonly validationLogloss?: number;
}

export interface Learner extends Model {
  /** Batch training; `data` can be called once per epoch, each call yielding batches with labels. */
  fit(data: () => AsyncIterable<RawBatch>, opts?: FitOptions): Promise<FitReport>;
}

/** A learner that can also learn one batch at a time (online / continuous learning). */
export interface OnlineLearner extends Learner {
  /** Learn from a labeled batch (progressive validation: call predict first to score it unseen). */
  update(batch: RawBatch): void;
}

export function isOnlineLearner(m: Model): m is OnlineLearner {
  return typeof (m as OnlineLearner).update === 'function';
}

/**
 * A model whose runtime scores asynchronously (ONNX Runtime's `run`). Its `predict` throws
 * PCTR_VALIDATION; callers that may hold one check `isAsyncModel` and await `predictAsync`, which
 * has predict's contract otherwise (calibrated probabilities of batch rows into out[0..n)).
 */
export interface AsyncModel extends Model {
  predictAsync(batch: RawBatch, out: Float32Array): Promise<void>;
}

export function isAsyncModel(m: Model): m is AsyncModel {
  return typeof (m as AsyncModel).predictAsync === 'function';
}
