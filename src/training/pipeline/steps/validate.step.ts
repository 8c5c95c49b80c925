/**
 * validate: checks the extracted data (rows, classes per slice, click rate, schema, null rates,
 * drift vs the last successful run's feature statistics) and stops the run with a report of every
 * failed check. Its output keeps this run's feature statistics: the next run's drift reference.
 */
import { join } from 'node:path';
import { servedFeatureSchema } from '../../../features/index.ts';
import type { StepDef } from '../../dag.ts';
import { runDir, type BatchPipelineDeps } from '../deps.ts';
import { StatsAccumulator, type FieldStats } from '../feature-stats.ts';
import type { BatchParams } from '../params.ts';
import { readSnapshot } from '../snapshot.ts';
import { validateData, type ValidationReport } from '../validation.ts';
import type { ExtractOutput } from './extract.step.ts';

export type ValidateOutput = ValidationReport;

export function validateStep(deps: BatchPipelineDeps, pipeline: string): StepDef<BatchParams> {
  return {
    name: 'validate',
    deps: ['extract'],
    async run(ctx): Promise<ValidateOutput> {
      const ex = ctx.inputs.extract as ExtractOutput;
      const dir = runDir(deps.workDir, ctx.runId);
      const stats = new StatsAccumulator(deps.schema ?? servedFeatureSchema(), ex.rows);
      for (const part of [ex.train, ex.calibration, ex.test]) {
        if (part === null) continue;
        for await (const batch of readSnapshot(join(dir, part.file))) stats.add(batch);
      }
      const last = await deps.runs.lastSucceeded(pipeline, ctx.runId);
      const refStats = (last?.steps.find((s) => s.name === 'validate')?.output as ValidateOutput | null)?.stats;
      const report = validateData(
        {
          train: ex.train,
          calibration: ex.calibration,
          test: ex.test,
          sampleNegatives: ex.sampleNegatives,
          stats,
          reference: last && refStats ? { runId: last.id, stats: refStats as FieldStats[] } : null,
        },
        ctx.params.validation,
      );
      for (const w of report.warnings) ctx.logger.warn(w);
      return report;
    },
  };
}
