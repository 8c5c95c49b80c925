/**
 * Histogram gradient-boosted trees for click probability (logloss), read from RawBatch columns
 * without the hashing encoder. Fit: rows into memory; categorical fields → count and out-of-fold
 * click rate (training slice only); every feature binned once into ≤ 255 bins plus a missing bin;
 * trees grown leaf-wise on gradient histograms (subtraction for the larger child, worker threads
 * for the features); early stopping on `FitOptions.validation` or else on the last
 * `validationFraction` of the rows in time order. Predict: the same features, then the trees on
 * raw thresholds, compiled to nested `if`s (forest-scorer.ts). Batch-only: there is no online `update`.
 */
import { z } from 'zod';
import { PctrError } from '../../../core/index.ts';
import type { FeatureSchema, RawBatch } from '../../../core/index.ts';
import { Calibrator, CalibrationSpec, NO_CALIBRATION } from '../../calibration.ts';
import type { Artifact, ArtifactHeader, FitOptions, FitReport } from '../../model.ts';
import type { CalibratedLearner } from '../../training/train-model.ts';
import { BIN_SAMPLE_ROWS, binBoundaries, binColumn, strideSample } from './binning.ts';
import { boost } from './boost.ts';
import type { CategoryTable } from './categorical.ts';
import { trainingSplit, type CollectedRows } from './collect.ts';
import { buildTrainingFeatures, featureNames, FeatureTransform, type Rows } from './features.ts';
import { trainingArrays, type TrainingArrays } from './histogram-kernel.ts';
import { GbdtParams } from './params.ts';
import { Forest } from './tree.ts';

/** Below this many training rows, worker threads cost more to start than they save. */
export const PARALLEL_MIN_ROWS = 10_000;

const GbdtEncoding = z.strictObject({
  features: z.array(z.string()),
  baseMargin: z.number(),
  /** Per categorical field (schema order), the click rate of rare and unseen values. */
  unseenCtr: z.array(z.number()),
});
type GbdtEncoding = z.output<typeof GbdtEncoding>;

export interface GbdtFitReport extends FitReport {
  readonly trees: number;
  readonly rounds: number;
  readonly trainRows: number;
  readonly validationRows: number;
}

const EMPTY_TABLE: CategoryTable = { keys: new Int32Array(0), count: new Float32Array(0), ctr: new Float32Array(0), unseenCtr: 0 };

export class GbdtLearner implements CalibratedLearner {
  readonly kind = 'gbdt';
  readonly schema: FeatureSchema;
  readonly params: GbdtParams;
  private forest = new Forest();
  private tables: CategoryTable[];
  private transform: FeatureTransform;
  private baseMargin = 0;
  private calibrator: Calibrator;
  private trainedOn: ArtifactHeader['trainedOn'];
  private createdAt = new Date().toISOString();
  private margins = new Float64Array(0);

  constructor(schema: FeatureSchema, params: GbdtParams, calibration: CalibrationSpec = NO_CALIBRATION) {
    this.schema = { fields: schema.fields.map((f) => ({ name: f.name, kind: f.kind })) };
    this.params = params;
    this.calibrator = new Calibrator(calibration);
    this.tables = this.schema.fields.filter((f) => f.kind === 'categorical').map(() => EMPTY_TABLE);
    this.transform = new FeatureTransform(this.schema, this.tables);
  }

  get calibration(): CalibrationSpec {
    return this.calibrator.spec;
  }

  setCalibration(spec: CalibrationSpec): void {
    this.calibrator = new Calibrator(spec);
  }

  /** Trees in the model. */
  get trees(): number {
    return this.forest.trees;
  }

  async fit(data: () => AsyncIterable<RawBatch>, opts: FitOptions = {}): Promise<GbdtFitReport> {
    const started = performance.now();
    const p = this.params;
    const { rows, train, valid } = await trainingSplit(this.schema, data, p, opts);
    const threads = train.n >= PARALLEL_MIN_ROWS ? p.threads : 1;
    const binned = binFeatures(this.schema, train, valid, p);
    let clicks = 0;
    for (let r = 0; r < train.n; r++) clicks += train.labels[r];
    const prior = Math.min(Math.max(clicks / train.n, 1e-6), 1 - 1e-6);
    const forest = new Forest();
    const baseMargin = Math.log(prior / (1 - prior));
    const result = await boost(
      forest,
      { train: { n: train.n, arrays: binned.arrays, upper: binned.upper }, valid: valid && { n: valid.n, bins: binned.validBins, labels: valid.labels }, baseMargin },
      p,
      threads,
      opts,
    );
    this.forest = forest;
    this.baseMargin = baseMargin;
    this.tables = binned.tables;
    this.transform = new FeatureTransform(this.schema, this.tables);
    this.trainedOn = trainedOn(rows, opts.source);
    this.createdAt = new Date().toISOString();
    return {
      examples: rows.n,
      // A boosting round is GBDT's pass over the data.
      epochs: result.rounds,
      seconds: (performance.now() - started) / 1000,
      trainLogloss: result.trainLogloss,
      ...(result.validationLogloss === undefined ? {} : { validationLogloss: result.validationLogloss }),
      trees: result.trees,
      rounds: result.rounds,
      trainRows: train.n,
      validationRows: valid?.n ?? 0,
    };
  }

  predict(batch: RawBatch, out: Float32Array): void {
    const margins = this.scoreMargins(batch);
    for (let r = 0; r < batch.n; r++) out[r] = 1 / (1 + Math.exp(-margins[r]));
    this.calibrator.apply(out, batch.n);
  }

  /** The features trees read for `batch`, row-major (`featureNames` order); valid until the next call. */
  features(batch: RawBatch): Float32Array {
    return this.transform.transform(batch);
  }

  /** Leaf of every row in every tree, as out[t][r] = leaf number + 1. */
  leaves(batch: RawBatch, out: readonly Int32Array[]): void {
    this.forest.leaves(this.transform.transform(batch), batch.n, this.transform.width, out);
  }

  private scoreMargins(batch: RawBatch): Float64Array {
    const n = batch.n;
    if (this.margins.length < n) this.margins = new Float64Array(Math.max(n, 2 * this.margins.length));
    const margins = this.margins;
    margins.fill(this.baseMargin, 0, n);
    this.forest.addMargins(this.transform.transform(batch), n, this.transform.width, margins);
    return margins;
  }

  toArtifact(): Artifact {
    const encoding: GbdtEncoding = { features: featureNames(this.schema), baseMargin: this.baseMargin, unseenCtr: this.tables.map((t) => t.unseenCtr) };
    const tensors: Record<string, Artifact['tensors'][string]> = { ...this.forest.toTensors() };
    const categorical = this.schema.fields.filter((f) => f.kind === 'categorical');
    categorical.forEach((f, c) => {
      tensors[`cat.${f.name}.keys`] = this.tables[c].keys;
      tensors[`cat.${f.name}.count`] = this.tables[c].count;
      tensors[`cat.${f.name}.ctr`] = this.tables[c].ctr;
    });
    const header: ArtifactHeader = {
      format: 'pctr-model/1',
      kind: this.kind,
      params: this.params,
      schema: this.schema,
      encoding,
      calibration: this.calibrator.spec,
      ...(this.trainedOn ? { trainedOn: this.trainedOn } : {}),
      createdAt: this.createdAt,
    };
    return { header, tensors };
  }

  static fromArtifact(artifact: Artifact): GbdtLearner {
    const { header, tensors } = artifact;
    const params = GbdtParams.safeParse(header.params);
    const encoding = GbdtEncoding.safeParse(header.encoding);
    const calibration = CalibrationSpec.safeParse(header.calibration ?? NO_CALIBRATION);
    if (!params.success || !encoding.success || !calibration.success) {
      const issue = [params, encoding, calibration].find((r) => !r.success)!.error!.issues[0];
      throw new PctrError('PCTR_ARTIFACT_CORRUPT', `gbdt artifact has invalid settings at ${issue.path.join('.') || '(root)'}: ${issue.message}`);
    }
    const model = new GbdtLearner(header.schema, params.data, calibration.data);
    const names = featureNames(model.schema);
    const categorical = model.schema.fields.filter((f) => f.kind === 'categorical');
    if (encoding.data.features.join('\n') !== names.join('\n') || encoding.data.unseenCtr.length !== categorical.length) {
      throw new PctrError('PCTR_ARTIFACT_CORRUPT', 'gbdt artifact features do not match its schema');
    }
    model.forest = Forest.fromTensors(tensors, names.length);
    model.tables = categorical.map((f, c) => {
      const [keys, count, ctr] = ['keys', 'count', 'ctr'].map((k) => tensors[`cat.${f.name}.${k}`]);
      if (!(keys instanceof Int32Array) || !(count instanceof Float32Array) || !(ctr instanceof Float32Array) || count.length !== keys.length || ctr.length !== keys.length) {
        throw new PctrError('PCTR_ARTIFACT_CORRUPT', `gbdt artifact needs tensors cat.${f.name}.keys (i32), .count and .ctr (f32) of equal length`);
      }
      return { keys, count, ctr, unseenCtr: encoding.data.unseenCtr[c] };
    });
    model.transform = new FeatureTransform(model.schema, model.tables);
    model.baseMargin = encoding.data.baseMargin;
    model.trainedOn = header.trainedOn;
    model.createdAt = header.createdAt;
    return model;
  }
}

function trainedOn(rows: CollectedRows, source: string | undefined): NonNullable<ArtifactHeader['trainedOn']> {
  return { from: rows.from, to: rows.to, rows: rows.n, source: source ?? '' };
}

interface Binned {
  /** The training rows' bins, in the memory training's other arrays share. */
  readonly arrays: TrainingArrays;
  readonly validBins: Uint8Array;
  readonly upper: Float64Array[];
  readonly tables: CategoryTable[];
}

/** Every feature binned once, column-major, the training rows' into training's shared memory. */
function binFeatures(schema: FeatureSchema, train: Rows, valid: Rows | null, p: GbdtParams): Binned {
  const width = featureNames(schema).length;
  const n = train.n;
  const vn = valid?.n ?? 0;
  const arrays = trainingArrays(n, width, p.maxBin, p.maxLeaves);
  arrays.labels.set(train.labels.subarray(0, n));
  const bins = arrays.bins;
  const validBins = new Uint8Array(vn * width);
  const upper: Float64Array[] = [];
  const sample = new Float64Array(Math.min(n, BIN_SAMPLE_ROWS));
  const tables = buildTrainingFeatures(schema, train, valid, p, (f, column, validColumn) => {
    upper[f] = binBoundaries(strideSample(column, n, sample), p.maxBin);
    binColumn(column, n, upper[f], bins.subarray(f * n, (f + 1) * n));
    if (validColumn) binColumn(validColumn, vn, upper[f], validBins.subarray(f * vn, (f + 1) * vn));
  });
  return { arrays, validBins, upper, tables };
}
