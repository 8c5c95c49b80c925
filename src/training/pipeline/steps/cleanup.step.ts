/** cleanup: removes the run's files once it is done (the artifact lives on in the registry, statistics in the run store). */
import { rm } from 'node:fs/promises';
import type { StepDef } from '../../dag.ts';
import { runDir, type BatchPipelineDeps } from '../deps.ts';
import type { BatchParams } from '../params.ts';

export function cleanupStep(deps: BatchPipelineDeps): StepDef<BatchParams> {
  return {
    name: 'cleanup',
    deps: ['promote'],
    async run(ctx): Promise<{ removed: string }> {
      const dir = runDir(deps.workDir, ctx.runId);
      await rm(dir, { recursive: true, force: true });
      return { removed: dir };
    },
  };
}
