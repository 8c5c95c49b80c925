/**
 * evaluate: scores the challenger and the current champion on the same test slice (the latest
 * part of the range, never trained on) and takes the gate decision. With no champion — or one that
 * cannot load or cannot score these features — the challenger must beat the base-rate predictor.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage, isPctrError } from '../../../core/index.ts';
import { evaluateModel, loadModel, type Model } from '../../../models/index.ts';
import type { ModelVersion } from '../../../registry/index.ts';
import type { StepDef } from '../../dag.ts';
import { baseRateReference, decideGate, type GateDecision, type GateReference } from '../../gate.ts';
import { runDir, type BatchPipelineDeps } from '../deps.ts';
import { summarize, type MetricsSummary } from '../metrics-summary.ts';
import type { BatchParams } from '../params.ts';
import { readSnapshot } from '../snapshot.ts';
import type { ValidateOutput } from './validate.step.ts';
import type { ExtractOutput } from './extract.step.ts';
import type { TrainOutput } from './train.step.ts';

export interface EvaluateOutput {
  readonly challenger: MetricsSummary;
  /** The champion when the run evaluated (null: none); promotion is compare-and-set against it. */
  readonly championVersion: number | null;
  readonly champion: MetricsSummary | null;
  /** Why a champion that exists was not the reference (failed to load or to score). */
  readonly championProblem: string | null;
  readonly baseline: { readonly ctr: number; readonly logloss: number };
  readonly gate: GateDecision;
}

/** The champion version, or null when the model or its alias does not exist yet. */
export async function currentChampion(deps: BatchPipelineDeps, name: string): Promise<ModelVersion | null> {
  try {
    return await deps.registry.get(name, '@champion');
  } catch (e) {
    if (isPctrError(e, 'PCTR_UNKNOWN_MODEL') || isPctrError(e, 'PCTR_UNKNOWN_ALIAS')) return null;
    throw e;
  }
}

export function evaluateStep(deps: BatchPipelineDeps): StepDef<BatchParams> {
  return {
    name: 'evaluate',
    deps: ['extract', 'validate', 'train'],
    async run(ctx): Promise<EvaluateOutput> {
      const ex = ctx.inputs.extract as ExtractOutput;
      const tr = ctx.inputs.train as TrainOutput;
      const va = ctx.inputs.validate as ValidateOutput;
      const dir = runDir(deps.workDir, ctx.runId);
      const test = () => readSnapshot(join(dir, ex.test.file));
      const challengerModel = loadModel(await readFile(join(dir, tr.artifact)));
      const challenger = summarize(await evaluateModel(challengerModel, test()));
      const championVersion = await currentChampion(deps, ctx.params.modelName);
      let champion: MetricsSummary | null = null;
      let championProblem: string | null = null;
      if (championVersion) {
        let model: Model | null = null;
        try {
          model = loadModel(await deps.registry.loadArtifact(championVersion));
          champion = summarize(await evaluateModel(model, test()));
        } catch (e) {
          if (isPctrError(e, 'PCTR_BACKEND_UNAVAILABLE')) throw e;
          championProblem = `champion v${championVersion.version} could not be ${model ? 'scored on this data' : 'loaded'} (${errorMessage(e)})`;
          ctx.logger.warn(championProblem);
        }
      }
      const baseline = baseRateReference(va.labelRate, ex.test.positives, ex.test.rows);
      const reference: GateReference = champion
        ? { kind: 'champion', label: `champion v${championVersion!.version}`, version: championVersion!.version, auc: champion.auc, logloss: champion.logloss }
        : baseline;
      const decision = decideGate(challenger, reference, ctx.params.gate);
      const gate = championProblem ? { ...decision, reason: `${championProblem}; ${decision.reason}` } : decision;
      ctx.logger.info({ promote: gate.promote, reason: gate.reason }, 'gate decision');
      return {
        challenger,
        championVersion: championVersion?.version ?? null,
        champion,
        championProblem,
        baseline: { ctr: va.labelRate, logloss: baseline.logloss },
        gate,
      };
    },
  };
}
