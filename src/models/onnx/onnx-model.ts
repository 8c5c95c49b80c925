/**
 * A model exported from PyTorch or TensorFlow, served by ONNX Runtime (onnxruntime-node, CPU, one
 * intra-op thread: the gateway parallelizes across requests, not within one). A feature spec
 * (feature-spec.ts) says how a RawBatch becomes the model's input tensors, so it scores the same
 * served features as pctr's own models. ONNX Runtime's `run` is asynchronous, so this is an
 * `AsyncModel`: `predictAsync` scores, `predict` refuses. The session opens on first use (or on
 * `ready()`), so a registry load followed by the serving smoke test surfaces a bad file at load.
 * As a pctr artifact: header kind `onnx`, params = the spec, tensor `onnx` = the model's bytes.
 */
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { errorMessage, PctrError } from '../../core/index.ts';
import type { FeatureSchema, RawBatch } from '../../core/index.ts';
import { Calibrator, CalibrationSpec, NO_CALIBRATION } from '../calibration.ts';
import type { Artifact, AsyncModel } from '../model.ts';
import { parseOnnxSpec, type OnnxFeatureSpec } from './feature-spec.ts';
import { FeedBuilder } from './feeds.ts';

export const ONNX_KIND = 'onnx';

const SESSION_OPTIONS: InferenceSession.SessionOptions = { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' };

export class OnnxModel implements AsyncModel {
  readonly kind = ONNX_KIND;
  readonly schema: FeatureSchema;
  readonly spec: OnnxFeatureSpec;
  readonly bytes: Uint8Array;
  private readonly feeds: FeedBuilder;
  private readonly calibrator: Calibrator;
  private readonly createdAt: string;
  private session: Promise<InferenceSession> | null = null;

  constructor(spec: OnnxFeatureSpec, bytes: Uint8Array, calibration: CalibrationSpec = NO_CALIBRATION, createdAt = new Date().toISOString()) {
    this.spec = spec;
    this.schema = spec.schema;
    this.bytes = bytes;
    this.feeds = new FeedBuilder(spec);
    this.calibrator = new Calibrator(calibration);
    this.createdAt = createdAt;
  }

  static fromArtifact(artifact: Artifact): OnnxModel {
    const { header, tensors } = artifact;
    let spec: OnnxFeatureSpec;
    try {
      spec = parseOnnxSpec(header.params, 'the onnx artifact\'s feature spec');
    } catch (e) {
      throw new PctrError('PCTR_ARTIFACT_CORRUPT', errorMessage(e), { cause: e });
    }
    const calibration = CalibrationSpec.safeParse(header.calibration ?? NO_CALIBRATION);
    if (!calibration.success) throw new PctrError('PCTR_ARTIFACT_CORRUPT', `onnx artifact has an invalid calibration: ${calibration.error.issues[0].message}`);
    const bytes = tensors.onnx;
    if (!(bytes instanceof Uint8Array) || bytes.length === 0) throw new PctrError('PCTR_ARTIFACT_CORRUPT', 'onnx artifact needs the model bytes as tensor onnx (u8)');
    return new OnnxModel(spec, bytes, calibration.data, header.createdAt);
  }

  /** Opens the ONNX Runtime session (once) and checks the model's inputs and output against the spec. */
  ready(): Promise<InferenceSession> {
    this.session ??= this.open();
    return this.session;
  }

  predict(): void {
    throw new PctrError('PCTR_VALIDATION', 'an onnx model scores asynchronously: call predictAsync (see isAsyncModel)');
  }

  async predictAsync(batch: RawBatch, out: Float32Array): Promise<void> {
    const session = await this.ready();
    const n = batch.n;
    if (n === 0) return;
    const feeds: Record<string, Tensor> = {};
    for (const f of this.feeds.build(batch)) feeds[f.name] = new Tensor(f.dtype, f.data, f.dims);
    let result: InferenceSession.ReturnType;
    try {
      result = await session.run(feeds);
    } catch (e) {
      throw new PctrError('PCTR_INTERNAL', `onnx model failed to score ${n} rows: ${errorMessage(e)}`, { cause: e });
    }
    const scores = result[this.spec.output.name].data as Float32Array;
    if (scores.length !== n) throw new PctrError('PCTR_INTERNAL', `onnx model output ${this.spec.output.name} has ${scores.length} values for ${n} rows`);
    const logit = this.spec.output.kind === 'logit';
    for (let r = 0; r < n; r++) out[r] = logit ? 1 / (1 + Math.exp(-scores[r])) : scores[r];
    this.calibrator.apply(out, n);
  }

  toArtifact(): Artifact {
    return {
      header: {
        format: 'pctr-model/1',
        kind: ONNX_KIND,
        params: this.spec,
        schema: { fields: this.schema.fields.map((f) => ({ name: f.name, kind: f.kind })) },
        encoding: this.feeds.encoder.spec,
        calibration: this.calibrator.spec,
        createdAt: this.createdAt,
      },
      tensors: { onnx: this.bytes },
    };
  }

  /** Releases the ONNX Runtime session. */
  async close(): Promise<void> {
    const s = this.session;
    this.session = null;
    if (s) await (await s.catch(() => null))?.release();
  }

  private async open(): Promise<InferenceSession> {
    let session: InferenceSession;
    try {
      session = await InferenceSession.create(this.bytes, SESSION_OPTIONS);
    } catch (e) {
      this.session = null;
      throw new PctrError('PCTR_MODEL_LOAD_FAILED', `ONNX Runtime cannot load the model: ${errorMessage(e)}`, { cause: e });
    }
    const wanted = this.spec.inputs.map((i) => i.name);
    const missing = session.inputNames.filter((n) => !wanted.includes(n));
    const unknown = wanted.filter((n) => !session.inputNames.includes(n));
    const problems = [
      ...missing.map((n) => `the model needs input ${n}, which the spec does not fill`),
      ...unknown.map((n) => `the spec fills input ${n}, which the model does not have`),
      ...(session.outputNames.includes(this.spec.output.name) ? [] : [`the model has no output ${this.spec.output.name} (outputs: ${session.outputNames.join(', ')})`]),
    ];
    if (problems.length > 0) {
      this.session = null;
      await session.release();
      throw new PctrError('PCTR_MODEL_LOAD_FAILED', `the ONNX model does not match its feature spec: ${problems.join('; ')}`);
    }
    return session;
  }
}
