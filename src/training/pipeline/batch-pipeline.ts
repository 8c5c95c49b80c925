/**
 * The batch training pipeline: extract → validate → train → evaluate (vs the champion) → register →
 * promote (through the gate) → cleanup. `batchPipeline(deps)` builds the DAG any runner executes.
 */
import { defineDag, type Dag } from '../dag.ts';
import type { BatchPipelineDeps } from './deps.ts';
import { BatchParams } from './params.ts';
import { cleanupStep } from './steps/cleanup.step.ts';
import { evaluateStep } from './steps/evaluate.step.ts';
import { extractStep } from './steps/extract.step.ts';
import { promoteStep } from './steps/promote.step.ts';
import { registerStep } from './steps/register.step.ts';
import { trainStep } from './steps/train.step.ts';
import { validateStep } from './steps/validate.step.ts';

export const BATCH_PIPELINE = 'batch';

export function batchPipeline(deps: BatchPipelineDeps): Dag<BatchParams> {
  return defineDag(BATCH_PIPELINE, BatchParams, [
    extractStep(deps),
    validateStep(deps, BATCH_PIPELINE),
    trainStep(deps),
    evaluateStep(deps),
    registerStep(deps),
    promoteStep(deps),
    cleanupStep(deps),
  ]);
}
