/**
 * extract: the run's event-time range from the offline store into three snapshot files, split by
 * time — training (earliest; negatives downsampled when asked), calibration, then test (the latest
 * slice, where challenger and champion are compared). The split follows the span of the data
 * actually present, so a range with quiet hours at either end still gets a non-empty test slice.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PctrError } from '../../../core/index.ts';
import { servedFeatureSchema } from '../../../features/index.ts';
import type { StepDef } from '../../dag.ts';
import { FILES, runDir, type BatchPipelineDeps } from '../deps.ts';
import type { BatchParams } from '../params.ts';
import { writeSnapshot, type SnapshotSummary } from '../snapshot.ts';

export interface PartSummary extends SnapshotSummary {
  readonly file: string;
  /** Event-time range this part was read from, `[from, to)`. */
  readonly from: number;
  readonly to: number;
}

export interface ExtractOutput {
  readonly rows: number;
  readonly positives: number;
  readonly sampleNegatives: number;
  readonly train: PartSummary;
  readonly calibration: PartSummary | null;
  readonly test: PartSummary;
}

const iso = (ms: number): string => new Date(ms).toISOString();

export function extractStep(deps: BatchPipelineDeps): StepDef<BatchParams> {
  return {
    name: 'extract',
    deps: [],
    async run(ctx): Promise<ExtractOutput> {
      const range = ctx.range;
      if (!range) throw new PctrError('PCTR_VALIDATION', `run ${ctx.runId} has no time range; the batch pipeline trains on one`);
      const where = `[${iso(range.from)}, ${iso(range.to)})`;
      const stats = await deps.offline.stats(range);
      if (stats.rows === 0 || stats.minTs === null || stats.maxTs === null) {
        throw new PctrError('PCTR_DATA_INVALID', `the offline store has no labeled examples in ${where}: nothing to train on`, { details: { range } });
      }
      if (stats.positives === 0 || stats.positives === stats.rows) {
        throw new PctrError('PCTR_DATA_INVALID', `the examples in ${where} are all ${stats.positives === 0 ? 'non-clicks' : 'clicks'} (${stats.rows} rows): a single class cannot train a click model`, {
          details: { range, rows: stats.rows, positives: stats.positives },
        });
      }
      const p = ctx.params;
      const lo = stats.minTs;
      const hi = stats.maxTs + 1;
      const span = hi - lo;
      const testFrom = Math.max(lo, hi - Math.ceil(span * p.testFraction));
      const calibrationFrom = p.calibration === 'none' ? testFrom : Math.max(lo, testFrom - Math.ceil(span * p.calibrationFraction));
      const schema = deps.schema ?? servedFeatureSchema();
      const dir = runDir(deps.workDir, ctx.runId);
      await mkdir(dir, { recursive: true });
      const part = async (file: string, from: number, to: number, sample?: number): Promise<PartSummary> => {
        const opts = sample !== undefined && sample < 1 ? { sampleNegatives: sample, seed: p.seed } : {};
        const summary = await writeSnapshot(join(dir, file), schema, deps.offline.read({ from, to }, schema, opts));
        return { ...summary, file, from, to };
      };
      const train = await part(FILES.train, range.from, calibrationFrom, p.sampleNegatives);
      const calibration = p.calibration === 'none' ? null : await part(FILES.calibration, calibrationFrom, testFrom);
      const test = await part(FILES.test, testFrom, range.to);
      const parts = [train, calibration, test].filter((x): x is PartSummary => x !== null);
      ctx.logger.info({ train: train.rows, calibration: calibration?.rows ?? 0, test: test.rows }, 'extracted training data');
      return {
        rows: parts.reduce((a, x) => a + x.rows, 0),
        positives: parts.reduce((a, x) => a + x.positives, 0),
        sampleNegatives: p.sampleNegatives,
        train,
        calibration,
        test,
      };
    },
  };
}
