/**
 * What FM and FFM share (river's facto/ layout: one base, the variants override one hook): a linear
 * term over every token (the bias token's weight is the global bias), latent factors in an
 * EmbeddingTable that only non-bias tokens use, AdaGrad on the factors and AdaGrad or FTRL on the
 * linear term, online updates and mini-batches. The math runs in WebAssembly SIMD kernels
 * (factor-kernels.ts) over both tables, which live in the kernels' memory (an FTRL linear term is
 * stepped here, in JS); a variant only says which factor rows a row's tokens use (`stage`). With batchSize B > 1 the gradient of the mean loss over B consecutive rows is
 * applied once per touched row (PyTorch's semantics with sparse embeddings), so a PyTorch peer with
 * the same hyperparameters trains the same model; B = 1 is plain online learning, each row learned
 * right after it is scored (libffm's way).
 */
import { z } from 'zod';
import { PctrError } from '../../core/index.ts';
import type { FeatureSchema, RawBatch } from '../../core/index.ts';
import { CalibrationSpec, NO_CALIBRATION } from '../calibration.ts';
import { EmbeddingTable, EMBEDDING_INITS } from '../embeddings.ts';
import type { EncodedBatch } from '../encoding/encoder.ts';
import { EncodingParams, EncodingSpec } from '../encoding/encoding-spec.ts';
import { HashedModel } from '../hashed-model.ts';
import type { Artifact, FitOptions, FitReport, OnlineLearner } from '../model.ts';
import { AdaGrad, FtrlStep, SparseGradient, type Optimizer } from '../optimizers.ts';
import { factorKernels, type FactorKernelKind, type FactorKernels } from './factor-kernels.ts';
import { fitEpochs, type EncodedTrainer } from '../training/fit-loop.ts';
import { fitQuantileEncoding } from '../training/quantile-fit.ts';

export const FactorizationParams = z.strictObject({
  ...EncodingParams.shape,
  /** Latent factors per feature (per feature and field for FFM); the kernels work on 4 lanes. */
  dim: z.coerce.number().int().min(4).max(256).multipleOf(4, 'dim must be a multiple of 4').default(8),
  /** AdaGrad learning rate (factors, and the linear term unless linearOptimizer=ftrl). */
  lr: z.coerce.number().positive().default(0.02),
  /** L2 on the factors, applied at each step a factor vector takes. */
  l2: z.coerce.number().min(0).default(1e-5),
  l2Linear: z.coerce.number().min(0).default(0),
  /** AdaGrad's starting squared-gradient sum (libffm: 1, PyTorch: 0). */
  initialAccumulator: z.coerce.number().min(0).default(0),
  /** Uniform by default: as good here, and a new bucket's factors cost no logarithms or cosines. */
  init: z.enum(EMBEDDING_INITS).default('uniform'),
  /** Standard deviation (normal) or half-width (uniform) of the initial factors. */
  initScale: z.coerce.number().min(0).default(0.01),
  linearOptimizer: z.enum(['adagrad', 'ftrl']).default('adagrad'),
  /** FTRL settings of the linear term (linearOptimizer=ftrl; l2Linear is its λ2). */
  ftrlAlpha: z.coerce.number().positive().default(0.1),
  ftrlBeta: z.coerce.number().min(0).default(1),
  ftrlL1: z.coerce.number().min(0).default(0),
  /** Rows per gradient step; 1 learns each row as it comes. */
  batchSize: z.coerce.number().int().min(1).max(65536).default(1),
  epochs: z.coerce.number().int().min(1).max(1000).default(1),
  /** Rows per shuffled window in fit (0 = file order). */
  shuffleWindow: z.coerce.number().int().min(0).max(10_000_000).default(0),
  seed: z.coerce.number().int().default(1),
});
export type FactorizationParams = z.output<typeof FactorizationParams>;

const MAX_LOGIT = 35;
const EPS = 1e-15;

export function sigmoid(logit: number): number {
  return 1 / (1 + Math.exp(logit > MAX_LOGIT ? -MAX_LOGIT : logit < -MAX_LOGIT ? MAX_LOGIT : -logit));
}

/** Parses an artifact's settings with the learner's schemas; PCTR_ARTIFACT_CORRUPT naming the first problem. */
export function artifactSettings<P extends z.ZodType>(kind: string, schema: P, artifact: Artifact): { params: z.output<P>; encoding: EncodingSpec; calibration: CalibrationSpec } {
  const { header } = artifact;
  const params = schema.safeParse(header.params);
  const encoding = EncodingSpec.safeParse(header.encoding);
  const calibration = CalibrationSpec.safeParse(header.calibration ?? NO_CALIBRATION);
  if (!params.success || !encoding.success || !calibration.success) {
    const issue = [params, encoding, calibration].find((r) => !r.success)!.error!.issues[0];
    throw new PctrError('PCTR_ARTIFACT_CORRUPT', `${kind} artifact has invalid settings at ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return { params: params.data, encoding: encoding.data, calibration: calibration.data };
}

export abstract class FactorizationModel extends HashedModel implements OnlineLearner, EncodedTrainer {
  readonly params: FactorizationParams;
  readonly linear: EmbeddingTable;
  readonly factors: EmbeddingTable;
  protected readonly kernels: FactorKernels;
  protected readonly linearOptimizer: Optimizer;
  protected readonly factorOptimizer: AdaGrad;
  /** Mini-batch gradient sums of an FTRL linear term (batchSize > 1; AdaGrad's, like the factors', live in the kernels' memory). */
  private readonly linearGrad: SparseGradient | null;
  /** The linear term is AdaGrad's, stepped by the kernels; else FTRL's, stepped in JS. */
  private readonly linearInKernels: boolean;
  /** Tokens of the row staged last (bias included); stageRow returns those with factors. */
  private staged = 0;

  constructor(kind: FactorKernelKind, schema: FeatureSchema, params: FactorizationParams, encoding: EncodingSpec, calibration: CalibrationSpec) {
    super(schema, encoding, calibration);
    this.params = params;
    const p = params;
    this.linearOptimizer =
      p.linearOptimizer === 'ftrl'
        ? new FtrlStep({ alpha: p.ftrlAlpha, beta: p.ftrlBeta, l1: p.ftrlL1, l2: p.l2Linear })
        : new AdaGrad({ lr: p.lr, l2: p.l2Linear, initialAccumulator: p.initialAccumulator });
    this.factorOptimizer = new AdaGrad({ lr: p.lr, l2: p.l2, initialAccumulator: p.initialAccumulator });
    const buckets = this.encoder.dimension;
    const width = this.encoder.width;
    // FM: one vector per bucket; FFM: one per bucket and field it can meet (every field but the bias).
    const perBucket = kind === 'fm' ? 1 : Math.max(1, this.encoder.fieldCount - 1);
    const rows = buckets * perBucket;
    this.linearInKernels = this.linearOptimizer instanceof AdaGrad;
    const kernels = factorKernels({
      kind,
      buckets,
      perBucket,
      dim: p.dim,
      maxTokens: width,
      maxBatchBuckets: p.batchSize > 1 ? Math.min(buckets, p.batchSize * width) : 0,
      linearStride: 1 + this.linearOptimizer.initialState.length,
      linearSteps: this.linearInKernels,
    });
    if (kernels === null) throw new PctrError('PCTR_INTERNAL', `${kind} needs WebAssembly SIMD, which this runtime does not validate`);
    this.kernels = kernels;
    this.linear = new EmbeddingTable(buckets, 1, {
      init: { kind: 'zero', scale: 0 },
      seed: p.seed,
      initialState: this.linearOptimizer.initialState,
      name: `${kind} linear weights`,
      storage: kernels.linear,
    });
    this.factors = new EmbeddingTable(rows, p.dim, {
      init: { kind: p.init, scale: p.initScale },
      seed: p.seed,
      initialState: this.factorOptimizer.initialState,
      name: `${kind} factors`,
      storage: kernels.table,
      group: perBucket,
      layout: kind === 'ffm' ? 'group' : 'row',
    });
    this.linearGrad = p.batchSize > 1 && !this.linearInKernels ? new SparseGradient(this.linear) : null;
  }

  /**
   * Writes the non-bias tokens of row [s, e) into the kernels' scratch (factor row, field, value,
   * bucket) and returns how many; with `touch`, initializes the factor rows they will use (training).
   */
  protected abstract stage(enc: EncodedBatch, s: number, e: number, touch: boolean): number;

  /** stage, then the bias token(s) after the others (bucket and value); returns the tokens with factors, leaves all in `staged`. */
  private stageRow(enc: EncodedBatch, s: number, e: number, touch: boolean): number {
    const n = this.stage(enc, s, e, touch);
    const { indices, values, fields } = enc;
    const { bucket, value } = this.kernels;
    const bias = this.encoder.biasField;
    const linear = this.linear;
    let t = n;
    for (let k = s; k < e; k++) {
      // The linear table has one row per group, so touchGroup(bucket) initializes the bucket's row.
      if (touch) linear.touchGroup(indices[k]);
      if (fields[k] !== bias) continue;
      bucket[t] = indices[k];
      value[t++] = values[k];
    }
    this.staged = t;
    return n;
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

  learnEncoded(enc: EncodedBatch, order?: Int32Array): number {
    const labels = enc.labels;
    if (!labels) throw new PctrError('PCTR_DATA_INVALID', 'training batches must carry labels');
    const { offsets } = enc;
    const batchSize = this.params.batchSize;
    const kernels = this.kernels;
    const { lr, l2, eps } = this.factorOptimizer;
    const l2Linear = this.params.l2Linear;
    const inKernels = this.linearInKernels;
    let loss = 0;
    let pending = 0;
    for (let t = 0; t < enc.n; t++) {
      const r = order === undefined ? t : order[t];
      const s = offsets[r];
      const e = offsets[r + 1];
      const n = this.stageRow(enc, s, e, true);
      const p = sigmoid(kernels.forward(n, this.staged));
      const y = labels[r];
      // Probability of the observed label, without a branch on the (unpredictable) label.
      loss -= Math.log(Math.max(y * p + (1 - y) * (1 - p), EPS));
      const kappa = p - y;
      if (!inKernels) this.learnLinearInJs(enc, s, e, kappa);
      if (batchSize === 1) {
        kernels.backward(n, this.staged, kappa, lr, l2, eps, l2Linear);
        continue;
      }
      kernels.accumulate(n, this.staged, kappa);
      if (++pending === batchSize || t === enc.n - 1) {
        this.linearGrad?.apply(this.linear, this.linearOptimizer, 1 / pending);
        kernels.apply(1 / pending, lr, l2, eps, l2Linear);
        pending = 0;
      }
    }
    return loss;
  }

  /** An FTRL linear term's step (batchSize 1) or gradient sums (mini-batches) for row [s, e). */
  private learnLinearInJs(enc: EncodedBatch, s: number, e: number, kappa: number): void {
    const { indices, values } = enc;
    const linGrad = this.linearGrad;
    if (linGrad === null) {
      const { data, stride } = this.linear;
      for (let k = s; k < e; k++) {
        const at = indices[k] * stride;
        this.linearOptimizer.step(data, at, data, at + 1, 1, kappa * values[k]);
      }
      return;
    }
    for (let k = s; k < e; k++) {
      // row() first: it may grow (replace) grad, which must be read after it.
      const at = linGrad.row(indices[k]);
      linGrad.grad[at] += kappa * values[k];
    }
  }

  scoreEncoded(enc: EncodedBatch, out: Float32Array): void {
    const { offsets } = enc;
    const kernels = this.kernels;
    for (let r = 0; r < enc.n; r++) {
      const n = this.stageRow(enc, offsets[r], offsets[r + 1], false);
      out[r] = sigmoid(kernels.forward(n, this.staged));
    }
  }

  toArtifact(): Artifact {
    return {
      header: this.header(this.params),
      tensors: { ...this.linear.toTensors('linear'), ...this.factors.toTensors('factors') },
    };
  }

  protected loadTables(artifact: Artifact): void {
    this.linear.loadTensors('linear', artifact.tensors);
    this.factors.loadTensors('factors', artifact.tensors);
    this.restore(artifact.header);
  }
}
