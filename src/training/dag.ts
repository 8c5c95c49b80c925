/**
 * A pipeline as a DAG of named steps, independent of what runs it. A step declares the steps it
 * depends on and returns JSON, which the run store keeps under (run id, step): a runner that meets a
 * step already recorded as succeeded returns its stored output instead of running it again, which is
 * what makes a whole run safe to resume or re-deliver. Large data never travels as output; steps
 * write it to files named after the run under the work directory and pass the paths.
 */
import type { z } from 'zod';
import { PctrError, isPctrError, type ErrorCode, type Logger } from '../core/index.ts';

/** Why a run started. */
export type RunTrigger = 'manual' | 'cron' | 'backfill' | 'continuous';

export interface StepContext<P> {
  readonly runId: string;
  readonly trigger: RunTrigger;
  /** Event-time range of the run's data, epoch ms `[from, to)` (null for pipelines without one). */
  readonly range: { readonly from: number; readonly to: number } | null;
  readonly params: P;
  /** Outputs of the steps this one depends on, by step name. */
  readonly inputs: Readonly<Record<string, unknown>>;
  /** 1 on the first try; counts every start, including one cut short by a crashed worker. */
  readonly attempt: number;
  readonly logger: Logger;
  /** Aborted when the runner shuts down; long steps should stop early. */
  readonly signal: AbortSignal;
}

export interface StepDef<P> {
  readonly name: string;
  readonly deps: readonly string[];
  /** Must be idempotent: running it twice for one run leaves the same effects as once. Returns JSON. */
  run(ctx: StepContext<P>): Promise<unknown>;
}

export interface Dag<P = unknown> {
  readonly name: string;
  /** Validates and completes run parameters (defaults filled) before a run is created. */
  readonly params: z.ZodType<P>;
  readonly steps: readonly StepDef<P>[];
  /** Step names in a topological order (ties in definition order): the order runners execute them. */
  readonly order: readonly string[];
  step(name: string): StepDef<P>;
}

const NAME = /^[a-z][a-z0-9-]{0,39}$/;

/** Checks names and dependencies (unknown, duplicate, cyclic) and fixes the execution order. */
export function defineDag<P>(name: string, params: z.ZodType<P>, steps: readonly StepDef<P>[]): Dag<P> {
  if (!NAME.test(name)) throw new PctrError('PCTR_VALIDATION', `pipeline name "${name}" must be lowercase letters, digits and - (at most 40)`);
  if (steps.length === 0) throw new PctrError('PCTR_VALIDATION', `pipeline ${name} has no steps`);
  const byName = new Map<string, StepDef<P>>();
  for (const s of steps) {
    if (!NAME.test(s.name)) throw new PctrError('PCTR_VALIDATION', `step name "${s.name}" in pipeline ${name} must be lowercase letters, digits and - (at most 40)`);
    if (byName.has(s.name)) throw new PctrError('PCTR_VALIDATION', `pipeline ${name} defines step ${s.name} twice`);
    byName.set(s.name, s);
  }
  for (const s of steps) {
    for (const d of s.deps) {
      if (!byName.has(d)) throw new PctrError('PCTR_VALIDATION', `step ${s.name} of pipeline ${name} depends on unknown step ${d}`);
    }
  }
  const order: string[] = [];
  const done = new Set<string>();
  // Kahn's algorithm, always taking the first ready step in definition order, so the order is stable.
  while (order.length < steps.length) {
    const next = steps.find((s) => !done.has(s.name) && s.deps.every((d) => done.has(d)));
    if (!next) {
      const stuck = steps.filter((s) => !done.has(s.name)).map((s) => s.name);
      throw new PctrError('PCTR_VALIDATION', `pipeline ${name} has a dependency cycle among steps ${stuck.join(', ')}`);
    }
    order.push(next.name);
    done.add(next.name);
  }
  return {
    name,
    params,
    steps,
    order,
    step(stepName: string): StepDef<P> {
      const s = byName.get(stepName);
      if (!s) throw new PctrError('PCTR_NOT_FOUND', `pipeline ${name} has no step ${stepName} (steps: ${order.join(', ')})`);
      return s;
    },
  };
}

/**
 * Failures a retry cannot fix: bad data, bad parameters, a corrupt artifact. Runners stop at once on
 * these instead of spending their retries and backoff on them.
 */
const PERMANENT: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'PCTR_DATA_INVALID',
  'PCTR_VALIDATION',
  'PCTR_CONFIG_INVALID',
  'PCTR_ARTIFACT_CORRUPT',
  'PCTR_MODEL_LOAD_FAILED',
  'PCTR_FILE_TRUNCATED',
]);

export function isRetryable(err: unknown): boolean {
  return !(isPctrError(err) && PERMANENT.has(err.code));
}
