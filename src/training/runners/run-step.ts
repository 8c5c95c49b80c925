/**
 * What both runners do around a step: create runs, give a step the outputs of its dependencies from
 * the run store, skip a step already recorded as succeeded, and record attempts, durations, outputs
 * and errors. A runner only decides when to call it, how often to retry and when a run is over.
 */
import { randomBytes } from 'node:crypto';
import { ERROR_CATALOG, PctrError, errorMessage, isPctrError, parseOrThrow, type ErrorCode, type Logger } from '../../core/index.ts';
import type { Dag, RunTrigger } from '../dag.ts';
import type { ErrorRecord, RunRecord, RunStore } from '../run-store/run-store.ts';

export interface RunSpec {
  /** Run id; default a new unique one. The same id names the same run: submitting it again resumes it. */
  readonly id?: string;
  readonly trigger: RunTrigger;
  /** Event-time range of the data, epoch ms `[from, to)`, for pipelines that read one. */
  readonly range: { readonly from: number; readonly to: number } | null;
  /** Pipeline parameters before validation (defaults are filled in and stored with the run). */
  readonly params: unknown;
}

const ID = /^[A-Za-z0-9][\w.-]{0,119}$/;

/** `manual-20261124T230522-1a2b3c`: sortable by creation, readable in tables, no `:` (BullMQ job ids refuse it). */
export function newRunId(trigger: RunTrigger, now = Date.now()): string {
  const stamp = new Date(now).toISOString().replace(/[-:]/g, '').slice(0, 15);
  return `${trigger}-${stamp}-${randomBytes(3).toString('hex')}`;
}

/** Creates a run, or returns the existing run of that id (reopened if it had failed). */
export async function createRun<P>(store: RunStore, dag: Dag<P>, spec: RunSpec): Promise<RunRecord> {
  const id = spec.id ?? newRunId(spec.trigger);
  if (!ID.test(id)) throw new PctrError('PCTR_VALIDATION', `run id "${id}" must be 1-120 letters, digits, . - _`);
  if (spec.range && !(Number.isFinite(spec.range.from) && Number.isFinite(spec.range.to) && spec.range.from < spec.range.to)) {
    throw new PctrError('PCTR_VALIDATION', `run range must have finite from < to, got [${spec.range.from}, ${spec.range.to})`);
  }
  const params = parseOrThrow(dag.params, spec.params ?? {}, `parameters of pipeline ${dag.name}`);
  const run = await store.createRun({ id, pipeline: dag.name, trigger: spec.trigger, range: spec.range, params, steps: dag.order });
  if (run.pipeline !== dag.name) throw new PctrError('PCTR_CONFLICT', `run ${id} already exists for pipeline ${run.pipeline}, not ${dag.name}`);
  // Submitting a failed run again resumes it: steps that succeeded are skipped.
  return run.status === 'failed' ? store.reopenRun(id) : run;
}

export function toErrorRecord(err: unknown): ErrorRecord {
  if (isPctrError(err)) return err.details === undefined ? { code: err.code, message: err.message } : { code: err.code, message: err.message, details: err.details };
  return { code: 'PCTR_INTERNAL', message: errorMessage(err) };
}

/** A recorded failure as a PctrError again (unknown codes become PCTR_INTERNAL). */
export function fromErrorRecord(e: ErrorRecord): PctrError {
  const code = e.code in ERROR_CATALOG ? (e.code as ErrorCode) : 'PCTR_INTERNAL';
  return new PctrError(code, e.message, e.details === undefined ? {} : { details: { ...e.details } });
}

export interface StepOutcome {
  readonly output: unknown;
  /** The step had already succeeded in this run; its stored output was returned without running it. */
  readonly skipped: boolean;
  readonly attempt: number;
}

/**
 * Runs one step of a run, or returns its stored output if it already succeeded. Throws the step's
 * error after recording it; the caller decides whether that was the last attempt.
 */
export async function runStep<P>(
  store: RunStore,
  dag: Dag<P>,
  runId: string,
  stepName: string,
  env: { readonly logger: Logger; readonly signal: AbortSignal },
): Promise<StepOutcome> {
  const step = dag.step(stepName);
  const run = await store.getRun(runId);
  const recorded = run.steps.find((s) => s.name === stepName);
  if (recorded?.status === 'succeeded') return { output: recorded.output, skipped: true, attempt: recorded.attempts };
  const inputs: Record<string, unknown> = {};
  for (const dep of step.deps) {
    const d = run.steps.find((s) => s.name === dep);
    if (d?.status !== 'succeeded') {
      throw new PctrError('PCTR_INTERNAL', `step ${stepName} of run ${runId} cannot start: its dependency ${dep} is ${d?.status ?? 'missing'}`);
    }
    inputs[dep] = d.output;
  }
  const start = await store.startStep(runId, stepName);
  if (start.alreadySucceeded) return { output: start.output, skipped: true, attempt: 0 };
  const logger = env.logger.child({ runId, step: stepName, attempt: start.attempt });
  const t0 = performance.now();
  try {
    const output = await step.run({
      runId,
      trigger: run.trigger as RunTrigger,
      range: run.range,
      params: parseOrThrow(dag.params, run.params, `parameters of run ${runId}`),
      inputs,
      attempt: start.attempt,
      logger,
      signal: env.signal,
    });
    const stored = await store.completeStep(runId, stepName, output, performance.now() - t0);
    logger.info({ ms: Math.round(performance.now() - t0) }, 'pipeline step succeeded');
    return { output: stored, skipped: false, attempt: start.attempt };
  } catch (err) {
    logger.warn({ err: errorMessage(err), code: isPctrError(err) ? err.code : undefined }, 'pipeline step failed');
    await store.failStep(runId, stepName, toErrorRecord(err), performance.now() - t0);
    throw err;
  }
}

/** Exponential backoff before attempt `attempt + 1`: base, 2·base, 4·base, … capped. */
export function backoffDelay(attempt: number, baseMs: number, maxMs = 60_000): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
}
