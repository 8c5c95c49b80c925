/**
 * The runner contract: the same DAG runs in-process (`embedded`) or as BullMQ jobs spread over
 * `pctr worker` processes (`bullmq`). Both record everything in the run store, retry a failed step
 * with exponential backoff (never a failure a retry cannot fix, see `isRetryable`), and run the
 * steps of one run one at a time in topological order.
 */
import { Cron } from 'croner';
import { PctrError, errorMessage } from '../../core/index.ts';
import type { Dag } from '../dag.ts';
import type { RunRecord, RunStore } from '../run-store/run-store.ts';
import type { RunSpec } from './run-step.ts';

export interface RetryPolicy {
  /** Tries per step, the first included. */
  readonly attempts: number;
  /** Delay before the second try; doubles for each further one. */
  readonly backoffMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 3, backoffMs: 1_000 };

/** A recurring run: every cron tick trains on the event-time range `[now − lag − window, now − lag)`. */
export interface ScheduleSpec {
  /** Schedule id; scheduling again under the same id replaces the schedule. */
  readonly id: string;
  /** Cron expression (5 fields, or 6 with seconds first). */
  readonly cron: string;
  readonly windowMs: number;
  /** How far behind "now" the range ends: labels of the latest impressions are not final yet. */
  readonly lagMs: number;
  readonly params: unknown;
  readonly timezone?: string;
}

export interface PipelineRunner {
  readonly kind: 'embedded' | 'bullmq';
  /** Creates (or resumes, for a known id) a run and returns its record without waiting for it. */
  submit<P>(dag: Dag<P>, spec: RunSpec): Promise<RunRecord>;
  /** Submits and resolves with the finished run (status succeeded or failed; never throws for a failed run). */
  run<P>(dag: Dag<P>, spec: RunSpec): Promise<RunRecord>;
  /** Resolves once the run has finished. */
  wait(runId: string, opts?: { readonly timeoutMs?: number }): Promise<RunRecord>;
  schedule<P>(dag: Dag<P>, spec: ScheduleSpec): Promise<void>;
  unschedule(id: string): Promise<void>;
  close(): Promise<void>;
}

/** The run a schedule tick starts: the range ends `lag` before the tick's event time. */
export function tickRunSpec(spec: ScheduleSpec, eventNow: number, id?: string): RunSpec {
  const to = eventNow - spec.lagMs;
  return { id, trigger: 'cron', range: { from: to - spec.windowMs, to }, params: spec.params };
}

/** Throws PCTR_VALIDATION naming the problem when a cron expression does not parse. */
export function checkCron(expression: string, timezone?: string): void {
  try {
    new Cron(expression, { paused: true, timezone }).stop();
  } catch (e) {
    throw new PctrError('PCTR_VALIDATION', `cron expression "${expression}" is invalid: ${errorMessage(e)} (use 5 fields, e.g. "0 * * * *", or 6 with seconds first)`);
  }
}

export function checkScheduleSpec(spec: ScheduleSpec): void {
  checkCron(spec.cron, spec.timezone);
  if (!/^[\w.-]{1,80}$/.test(spec.id)) throw new PctrError('PCTR_VALIDATION', `schedule id "${spec.id}" must be 1-80 letters, digits, . - _`);
  if (!(spec.windowMs > 0)) throw new PctrError('PCTR_VALIDATION', `schedule window must be > 0 ms, got ${spec.windowMs}`);
  if (!(spec.lagMs >= 0)) throw new PctrError('PCTR_VALIDATION', `schedule lag must be ≥ 0 ms, got ${spec.lagMs}`);
}

const TERMINAL = new Set(['succeeded', 'failed']);

export function isFinished(run: RunRecord): boolean {
  return TERMINAL.has(run.status);
}

/**
 * Polls the run store until a run has finished: the store is the one place every runner and worker
 * reports to, whichever process ran the steps.
 */
export async function waitForRun(store: RunStore, runId: string, opts: { timeoutMs?: number; pollMs?: number; signal?: AbortSignal } = {}): Promise<RunRecord> {
  const deadline = opts.timeoutMs === undefined ? Infinity : Date.now() + opts.timeoutMs;
  const pollMs = opts.pollMs ?? 200;
  for (;;) {
    const run = await store.getRun(runId);
    if (isFinished(run)) return run;
    if (Date.now() >= deadline) {
      throw new PctrError('PCTR_TIMEOUT', `run ${runId} did not finish within ${opts.timeoutMs} ms (status ${run.status}; steps ${run.steps.map((s) => `${s.name}=${s.status}`).join(', ')})`);
    }
    await sleep(Math.min(pollMs, deadline - Date.now()), opts.signal);
  }
}

/** A timer that an abort signal cuts short (rejecting with the signal's reason). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
