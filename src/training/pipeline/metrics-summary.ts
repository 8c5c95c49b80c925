import type { Metrics } from '../../models/index.ts';

/** The headline numbers of a Metrics, as kept in run outputs and registry versions (no reliability table). */
export interface MetricsSummary {
  readonly n: number;
  readonly positives: number;
  readonly auc: number;
  readonly logloss: number;
  readonly ne: number;
  readonly calibration: number;
}

/** NaN (AUC of one class) becomes null in JSON; callers keep the number type and check finiteness. */
export function summarize(m: Metrics): MetricsSummary {
  return { n: m.n, positives: m.positives, auc: m.auc, logloss: m.logloss, ne: m.ne, calibration: m.calibration };
}
