/**
 * Training on a run's snapshot: fit the learner on the training slice, apply the correction for the
 * negative downsampling done at extraction, fit post-hoc calibration on the calibration slice (which
 * comes after the training rows in time and is never downsampled), and write the artifact file.
 * Runs in a worker thread in the pipeline (`fitInThread`), so serving and the job lock renewals of a
 * `pctr worker` keep their event loop.
 */
import { createHash } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { PctrError, type FeatureSchema } from '../../core/index.ts';
import {
  createLearner,
  encodeArtifact,
  evaluate,
  fitCalibration,
  isLearnerKind,
  scoreSource,
  type CalibrationMethod,
  type CalibrationSpec,
  type FitReport,
} from '../../models/index.ts';
import { summarize, type MetricsSummary } from './metrics-summary.ts';
import { readSnapshot } from './snapshot.ts';

export interface FitInput {
  readonly kind: string;
  readonly learnerParams: Readonly<Record<string, unknown>>;
  readonly schema: FeatureSchema;
  readonly trainPath: string;
  /** Calibration slice; null when calibration is 'none'. */
  readonly calibrationPath: string | null;
  readonly calibration: CalibrationMethod;
  /** Share of training negatives kept at extraction. */
  readonly sampleNegatives: number;
  readonly artifactPath: string;
  /** What the data is, recorded in the artifact. */
  readonly source: string;
}

export interface FitOutput {
  readonly fit: FitReport;
  readonly calibration: CalibrationSpec;
  /** Metrics on the calibration slice before the fitted map (it is in-sample after). */
  readonly calibrationSlice: MetricsSummary | null;
  readonly artifactBytes: number;
  /** sha256 of the artifact, hex: the register step refuses a file that changed since. */
  readonly digest: string;
}

export async function fitOnSnapshot(input: FitInput): Promise<FitOutput> {
  if (!isLearnerKind(input.kind)) throw new PctrError('PCTR_VALIDATION', `unknown model kind "${input.kind}"`);
  const learner = createLearner(input.kind, input.learnerParams, input.schema);
  const fit = await learner.fit(() => readSnapshot(input.trainPath), { source: input.source });
  if (fit.examples === 0) throw new PctrError('PCTR_DATA_INVALID', `the training slice ${input.trainPath} has no rows`);
  learner.setCalibration({ method: 'none', downsampleRate: input.sampleNegatives });
  let calibrationSlice: MetricsSummary | null = null;
  if (input.calibration !== 'none') {
    if (input.calibrationPath === null) throw new PctrError('PCTR_VALIDATION', `${input.calibration} calibration needs a calibration slice`);
    const set = await scoreSource(learner, readSnapshot(input.calibrationPath));
    const raw = evaluate(set.scores, set.labels);
    if (raw.positives === 0 || raw.positives === raw.n) {
      throw new PctrError('PCTR_DATA_INVALID', `the calibration slice has a single class (${raw.n} rows, ${raw.positives} clicks): cannot fit ${input.calibration} calibration`);
    }
    calibrationSlice = summarize(raw);
    learner.setCalibration(fitCalibration(input.calibration, set.scores, set.labels, input.sampleNegatives));
  }
  const bytes = encodeArtifact(learner.toArtifact());
  const tmp = `${input.artifactPath}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, bytes, { flush: true });
    await rename(tmp, input.artifactPath);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  return {
    fit,
    calibration: learner.calibration,
    calibrationSlice,
    artifactBytes: bytes.length,
    digest: createHash('sha256').update(bytes).digest('hex'),
  };
}
