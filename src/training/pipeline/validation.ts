/**
 * Checks on extracted training data before any training: enough rows, both classes in every part
 * that needs them, a plausible click rate, every feature present, null rates, and drift against the
 * last successful run. Every check runs and is reported, so one failed run lists everything wrong
 * with its data at once.
 */
import { z } from 'zod';
import { PctrError } from '../../core/index.ts';
import { psi, type FieldStats, type StatsAccumulator } from './feature-stats.ts';

export const ValidationConfig = z.strictObject({
  /** Fewest rows in the whole range. */
  minRows: z.number().int().min(1).default(100),
  /** Fewest rows in the held-out test slice (AUC of a handful of rows means nothing). */
  minTestRows: z.number().int().min(1).default(50),
  /** Bounds of the click rate (corrected for negative downsampling). */
  minLabelRate: z.number().min(0).max(1).default(1e-4),
  maxLabelRate: z.number().min(0).max(1).default(0.5),
  /** Largest share of missing values per feature. */
  maxNullRate: z.number().min(0).max(1).default(0.5),
  /** Largest PSI per feature vs the last successful run; null: drift is reported, never fatal. */
  maxPsi: z.number().positive().nullable().default(null),
});
export type ValidationConfig = z.output<typeof ValidationConfig>;

/** PSI above this is reported as a warning even when drift is not a failing check. */
export const PSI_WARNING = 0.25;

export interface PartCounts {
  readonly rows: number;
  readonly positives: number;
}

export interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly message: string;
}

export interface ValidationReport {
  readonly checks: readonly Check[];
  readonly warnings: readonly string[];
  /** Estimated click rate of the range (negatives reweighted by 1 / sampling rate). */
  readonly labelRate: number;
  readonly drift: Readonly<Record<string, number>>;
  /** Reference run the drift was measured against. */
  readonly driftReference: string | null;
  readonly stats: readonly FieldStats[];
}

export interface ValidationInput {
  readonly train: PartCounts;
  readonly calibration: PartCounts | null;
  readonly test: PartCounts;
  readonly sampleNegatives: number;
  readonly stats: StatsAccumulator;
  readonly reference: { readonly runId: string; readonly stats: readonly FieldStats[] } | null;
}

const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;

function classes(name: string, part: PartCounts): Check {
  const ok = part.positives > 0 && part.positives < part.rows;
  const what = part.rows === 0 ? 'is empty' : part.positives === 0 ? `has no clicks in ${part.rows} rows` : part.positives === part.rows ? `has only clicks (${part.rows} rows)` : `has both classes (${part.positives} clicks in ${part.rows} rows)`;
  return { name: `${name} classes`, ok, message: `the ${name} slice ${what}` };
}

/** Runs every check; throws PCTR_DATA_INVALID listing each failed one (details.checks has them all). */
export function validateData(input: ValidationInput, config: ValidationConfig): ValidationReport {
  const { train, calibration, test } = input;
  const parts = [train, calibration, test].filter((p): p is PartCounts => p !== null);
  const rows = parts.reduce((a, p) => a + p.rows, 0);
  const positives = parts.reduce((a, p) => a + p.positives, 0);
  const negatives = rows - positives;
  const trainNegatives = train.rows - train.positives;
  const weightedNegatives = negatives - trainNegatives + trainNegatives / input.sampleNegatives;
  const labelRate = positives + weightedNegatives > 0 ? positives / (positives + weightedNegatives) : 0;
  const checks: Check[] = [
    { name: 'rows', ok: rows >= config.minRows, message: `${rows} rows in the range (at least ${config.minRows} needed)` },
    { name: 'test rows', ok: test.rows >= config.minTestRows, message: `${test.rows} rows in the test slice (at least ${config.minTestRows} needed)` },
    classes('training', train),
    ...(calibration ? [classes('calibration', calibration)] : []),
    classes('test', test),
    {
      name: 'label rate',
      ok: rows > 0 && labelRate >= config.minLabelRate && labelRate <= config.maxLabelRate,
      message: `click rate ${pct(labelRate)} (allowed ${pct(config.minLabelRate)}–${pct(config.maxLabelRate)})`,
    },
  ];
  const stats = input.stats.finish();
  const absent = stats.filter((s) => s.rows > 0 && s.nullRate === 1).map((s) => s.name);
  checks.push({ name: 'schema', ok: absent.length === 0, message: absent.length ? `features missing from every row: ${absent.join(', ')}` : `all ${stats.length} features present` });
  const nullish = stats.filter((s) => s.nullRate < 1 && s.nullRate > config.maxNullRate);
  checks.push({
    name: 'null rates',
    ok: nullish.length === 0,
    message: nullish.length ? `null rate above ${pct(config.maxNullRate)}: ${nullish.map((s) => `${s.name} ${pct(s.nullRate)}`).join(', ')}` : `null rates at most ${pct(config.maxNullRate)}`,
  });
  const drift: Record<string, number> = {};
  for (const ref of input.reference?.stats ?? []) {
    const shares = input.stats.sharesLike(ref);
    if (shares !== null && ref.shares.length === shares.length) drift[ref.name] = psi(ref.shares, shares);
  }
  const drifted = Object.entries(drift).filter(([, v]) => v > PSI_WARNING);
  const warnings = drifted.map(([k, v]) => `feature ${k} drifted: PSI ${v.toFixed(3)} vs run ${input.reference!.runId}`);
  if (config.maxPsi !== null) {
    const over = Object.entries(drift).filter(([, v]) => v > config.maxPsi!);
    checks.push({
      name: 'drift',
      ok: over.length === 0,
      message: over.length ? `PSI above ${config.maxPsi} vs run ${input.reference!.runId}: ${over.map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ')}` : input.reference ? `PSI at most ${config.maxPsi} vs run ${input.reference.runId}` : 'no earlier successful run to compare with',
    });
  }
  const failed = checks.filter((c) => !c.ok);
  if (failed.length > 0) {
    throw new PctrError('PCTR_DATA_INVALID', `training data failed ${failed.length} of ${checks.length} checks: ${failed.map((c) => c.message).join('; ')}`, {
      details: { checks, warnings, labelRate },
    });
  }
  return { checks, warnings, labelRate, drift, driftReference: input.reference?.runId ?? null, stats };
}
