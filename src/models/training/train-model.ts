/**
 * Training with everything around the learner's fit: optional negative downsampling of the
 * training stream, then post-hoc calibration fitted on a held-out slice that comes after the
 * training rows in time, and the held-out metrics before and after calibration.
 * Used by `pctr train` and the training pipeline.
 */
import { PctrError } from '../../core/index.ts';
import type { RawBatch } from '../../core/index.ts';
import { Calibrator, fitCalibration, type CalibrationMethod, type CalibrationSpec } from '../calibration.ts';
import { scoreSource } from '../evaluate.ts';
import { evaluate, type Metrics } from '../metrics/metrics.ts';
import type { FitOptions, FitReport, Learner } from '../model.ts';
import { downsampleNegatives } from './downsample.ts';

/** A learner whose predict applies a replaceable post-hoc calibration. */
export interface CalibratedLearner extends Learner {
  readonly calibration: CalibrationSpec;
  setCalibration(spec: CalibrationSpec): void;
}

export interface TrainModelOptions extends Pick<FitOptions, 'onProgress' | 'signal' | 'source'> {
  readonly train: () => AsyncIterable<RawBatch>;
  /** Labeled rows after the training rows in time, for calibration and held-out metrics. */
  readonly holdout?: () => AsyncIterable<RawBatch>;
  readonly calibration?: CalibrationMethod;
  /** Keep each training non-click with this probability (1 = keep all); predict corrects for it. */
  readonly downsampleRate?: number;
  readonly seed?: number;
}

export interface TrainModelReport {
  readonly fit: FitReport;
  readonly calibration: CalibrationSpec;
  /** Held-out metrics: `raw` with only the downsampling correction, `calibrated` after the fitted map (in-sample for it). */
  readonly holdout?: { readonly raw: Metrics; readonly calibrated?: Metrics };
}

export async function trainModel(learner: CalibratedLearner, opts: TrainModelOptions): Promise<TrainModelReport> {
  const method = opts.calibration ?? 'none';
  const rate = opts.downsampleRate ?? 1;
  if (!(rate > 0 && rate <= 1)) throw new PctrError('PCTR_VALIDATION', `downsample rate must be in (0, 1], got ${rate}`);
  if (method !== 'none' && !opts.holdout) throw new PctrError('PCTR_VALIDATION', `${method} calibration needs held-out data`);
  const data = rate < 1 ? () => downsampleNegatives(opts.train(), rate, opts.seed) : opts.train;
  const fit = await learner.fit(data, { onProgress: opts.onProgress, signal: opts.signal, source: opts.source });
  learner.setCalibration({ method: 'none', downsampleRate: rate });
  if (!opts.holdout) return { fit, calibration: learner.calibration };

  const set = await scoreSource(learner, opts.holdout());
  const raw = evaluate(set.scores, set.labels);
  if (raw.positives === 0 || raw.positives === raw.n) {
    throw new PctrError('PCTR_DATA_INVALID', `the held-out data has a single class (${raw.n} rows, ${raw.positives} clicks): cannot calibrate or evaluate on it`);
  }
  if (method === 'none') return { fit, calibration: learner.calibration, holdout: { raw } };
  const spec = fitCalibration(method, set.scores, set.labels, rate);
  learner.setCalibration(spec);
  // The held-out scores already carry the downsampling correction; apply only the fitted map.
  const calibrated = Float32Array.from(set.scores);
  new Calibrator({ ...spec, downsampleRate: 1 }).apply(calibrated, calibrated.length);
  return { fit, calibration: spec, holdout: { raw, calibrated: evaluate(calibrated, set.labels) } };
}
