/** train: fits the learner on the training slice (in a worker thread) and writes the artifact file. */
import { join } from 'node:path';
import { servedFeatureSchema } from '../../../features/index.ts';
import type { StepDef } from '../../dag.ts';
import { FILES, runDir, type BatchPipelineDeps } from '../deps.ts';
import { fit } from '../fit-runner.ts';
import type { FitOutput } from '../fit-snapshot.ts';
import type { BatchParams } from '../params.ts';
import type { ExtractOutput } from './extract.step.ts';

export interface TrainOutput extends FitOutput {
  readonly artifact: string;
}

export function trainStep(deps: BatchPipelineDeps): StepDef<BatchParams> {
  return {
    name: 'train',
    deps: ['extract', 'validate'],
    async run(ctx): Promise<TrainOutput> {
      const ex = ctx.inputs.extract as ExtractOutput;
      const dir = runDir(deps.workDir, ctx.runId);
      const p = ctx.params;
      const out = await fit(
        {
          kind: p.kind,
          learnerParams: p.learner,
          schema: deps.schema ?? servedFeatureSchema(),
          trainPath: join(dir, ex.train.file),
          calibrationPath: ex.calibration ? join(dir, ex.calibration.file) : null,
          calibration: p.calibration,
          sampleNegatives: ex.sampleNegatives,
          artifactPath: join(dir, FILES.artifact),
          source: `offline store [${new Date(ex.train.from).toISOString()}, ${new Date(ex.train.to).toISOString()}) run ${ctx.runId}`,
        },
        { inThread: deps.fitInThread ?? true, signal: ctx.signal },
      );
      ctx.logger.info({ examples: out.fit.examples, seconds: out.fit.seconds }, 'trained challenger');
      return { ...out, artifact: FILES.artifact };
    },
  };
}
