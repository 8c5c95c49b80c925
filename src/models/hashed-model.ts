/**
 * What every model over hashed features shares: the schema it reads, the feature encoder (with
 * its reused buffers), post-hoc calibration, and the artifact header. A learner adds only its
 * scoring of encoded rows and its own state (FTRL's accumulators, later FM/FFM embeddings).
 */
import type { FeatureSchema, RawBatch } from '../core/index.ts';
import { Calibrator, NO_CALIBRATION, type CalibrationSpec } from './calibration.ts';
import { FeatureEncoder, type EncodedBatch } from './encoding/encoder.ts';
import type { EncodingSpec } from './encoding/encoding-spec.ts';
import type { Artifact, ArtifactHeader, Model } from './model.ts';

export type TrainedOn = NonNullable<ArtifactHeader['trainedOn']>;

export abstract class HashedModel implements Model {
  abstract readonly kind: string;
  readonly schema: FeatureSchema;
  protected trainedOn: TrainedOn | undefined;
  /** When the model was created or last finished training; kept through save and load. */
  protected createdAt = new Date().toISOString();
  private currentEncoder: FeatureEncoder;
  private calibrator: Calibrator;

  constructor(schema: FeatureSchema, encoding: EncodingSpec, calibration: CalibrationSpec = NO_CALIBRATION) {
    this.schema = schema;
    this.currentEncoder = new FeatureEncoder(schema, encoding);
    this.calibrator = new Calibrator(calibration);
  }

  get encoder(): FeatureEncoder {
    return this.currentEncoder;
  }

  get calibration(): CalibrationSpec {
    return this.calibrator.spec;
  }

  /** Replaces the post-hoc calibration applied by predict (fitted on held-out data). */
  setCalibration(spec: CalibrationSpec): void {
    this.calibrator = new Calibrator(spec);
  }

  predict(batch: RawBatch, out: Float32Array): void {
    this.scoreEncoded(this.currentEncoder.encode(batch), out);
    this.calibrator.apply(out, batch.n);
  }

  /** Uncalibrated click probabilities of encoded rows into out[0..n). */
  abstract scoreEncoded(enc: EncodedBatch, out: Float32Array): void;

  abstract toArtifact(): Artifact;

  /** Swaps the encoding, e.g. once quantile bins are fitted; only before any training. */
  protected setEncoding(spec: EncodingSpec): void {
    this.currentEncoder = new FeatureEncoder(this.schema, spec);
  }

  protected restore(header: ArtifactHeader): void {
    this.trainedOn = header.trainedOn;
    this.createdAt = header.createdAt;
  }

  protected header(params: Readonly<Record<string, unknown>>): ArtifactHeader {
    return {
      format: 'pctr-model/1',
      kind: this.kind,
      params,
      schema: { fields: this.schema.fields.map((f) => ({ name: f.name, kind: f.kind })) },
      encoding: this.currentEncoder.spec,
      calibration: this.calibrator.spec,
      ...(this.trainedOn ? { trainedOn: this.trainedOn } : {}),
      createdAt: this.createdAt,
    };
  }
}
