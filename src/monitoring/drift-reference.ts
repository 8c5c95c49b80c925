/**
 * Where the drift reference comes from. The champion's training data is summarized by the batch
 * pipeline's validate step (per-feature `FieldStats`, kept with the run); a version the continuous
 * learner published has no such run, so the reference is that of the nearest ancestor (parent
 * versions) that has one. With no trained champion at all (the prior serves, or runs were
 * removed), the first impressions served after the monitor starts become the reference, so drift
 * is still measured — from the start of monitoring rather than from training.
 */
import { RawBatchBuilder, type FeatureSchema, type FeatureValue } from '../core/index.ts';
import type { ModelVersion } from '../registry/index.ts';
import { StatsAccumulator, type FieldStats, type RunStore } from '../training/index.ts';
import type { DriftReference } from './drift.ts';

const MAX_ANCESTORS = 64;

function isFieldStats(x: unknown): x is FieldStats {
  const s = x as FieldStats;
  return s !== null && typeof s === 'object' && typeof s.name === 'string' && (s.kind === 'numeric' || s.kind === 'categorical') && Array.isArray(s.shares);
}

/** The training-data summary of `champion` or its nearest ancestor that has one; null when none does. */
export async function trainingReference(champion: ModelVersion, versions: readonly ModelVersion[], runs: RunStore): Promise<DriftReference | null> {
  const byVersion = new Map(versions.map((v) => [v.version, v]));
  let v: ModelVersion | undefined = champion;
  for (let depth = 0; v !== undefined && depth < MAX_ANCESTORS; depth++) {
    if (v.runId !== undefined) {
      const run = await runs.findRun(v.runId);
      const output = run?.steps.find((s) => s.name === 'validate' && s.status === 'succeeded')?.output as { stats?: unknown } | null | undefined;
      const stats = output?.stats;
      if (Array.isArray(stats) && stats.length > 0 && stats.every(isFieldStats)) {
        return { source: 'training-run', version: v.version, runId: v.runId, stats };
      }
    }
    v = v.parentVersion === undefined ? undefined : byVersion.get(v.parentVersion);
  }
  return null;
}

/** Collects the first `rows` served feature records into a served-baseline reference. */
export class BaselineCollector {
  private readonly builder: RawBatchBuilder;

  constructor(
    private readonly schema: FeatureSchema,
    private readonly rows: number,
  ) {
    this.builder = new RawBatchBuilder(schema, rows);
  }

  /** Adds one record; returns the reference once `rows` have been added (then the collector is spent). */
  add(features: Readonly<Record<string, FeatureValue>>): DriftReference | null {
    this.builder.add(features);
    if (this.builder.n < this.rows) return null;
    const acc = new StatsAccumulator(this.schema, this.rows);
    acc.add(this.builder.build());
    return { source: 'served-baseline', version: null, runId: null, stats: acc.finish() };
  }
}
