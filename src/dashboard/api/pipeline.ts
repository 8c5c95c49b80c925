/**
 * GET /api/pipeline: the latest pipeline runs as DAGs. The run store records steps in execution
 * order with their states, attempts and durations; the dependencies come from the DAG definitions
 * the caller passes (a `TrainingService`'s `dag`), and for a pipeline it does not know, each step
 * is drawn as depending on the one before it.
 */
import type { RunRecord, RunStore } from '../../training/index.ts';
import type { PipelineResponse, PipelineRun } from './types.ts';

/** What the view needs of a DAG definition (training's `Dag` has this shape). */
export interface DagShape {
  readonly name: string;
  readonly steps: readonly { readonly name: string; readonly deps: readonly string[] }[];
}

export function runView(run: RunRecord, dag: DagShape | undefined): PipelineRun {
  const depsOf = new Map(dag?.steps.map((s) => [s.name, [...s.deps]]));
  return {
    id: run.id,
    pipeline: run.pipeline,
    trigger: run.trigger,
    status: run.status,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    ...(run.gate ? { gate: { promoted: run.gate.promoted, reason: run.gate.reason, version: run.gate.version } } : {}),
    ...(run.error ? { error: `${run.error.code}: ${run.error.message}` } : {}),
    steps: run.steps.map((s, i) => ({
      name: s.name,
      deps: depsOf.get(s.name) ?? (i > 0 ? [run.steps[i - 1].name] : []),
      status: s.status,
      attempts: s.attempts,
      duration_ms: s.durationMs,
      ...(s.error ? { error: `${s.error.code}: ${s.error.message}` } : {}),
    })),
  };
}

export async function pipeline(runs: RunStore | undefined, dags: readonly DagShape[], limit = 20): Promise<PipelineResponse> {
  if (runs === undefined) return { runs: [] };
  const byName = new Map(dags.map((d) => [d.name, d]));
  const list = await runs.listRuns({ limit });
  return { runs: list.map((r) => runView(r, byName.get(r.pipeline))) };
}
