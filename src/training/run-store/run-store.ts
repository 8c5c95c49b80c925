/**
 * The run store contract: the queryable history of pipeline runs (what `pctr train runs`, the
 * dashboard and the metrics read) and the record runners use to make steps idempotent.
 * Backends: `sqlite` (embedded) and `postgres` (shared by `pctr train` and every `pctr worker`).
 *
 * Promises: `createRun` is idempotent per id (a second call returns the first run unchanged). A step
 * that succeeded stays succeeded with its first output: `completeStep` after another completion
 * returns the stored output, and `startStep` on it reports `alreadySucceeded` without counting an
 * attempt, so a re-delivered step never runs twice to completion in effect. `startStep` counts every
 * start, including one cut short by a crash. A run that succeeded is never turned back to failed.
 *
 * Leaves out: deleting runs, and locking a step against two concurrent executions (the queue's job
 * lock does that; steps are idempotent besides).
 */

export type RunStatus = 'pending' | 'running' | 'succeeded' | 'failed';
export type StepStatus = 'pending' | 'running' | 'succeeded' | 'failed';

/** A failure as recorded: the PctrError code (PCTR_INTERNAL for anything else), message and details. */
export interface ErrorRecord {
  readonly code: string;
  readonly message: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** The promotion decision of a run: whether the model became champion, and why (or why not). */
export interface GateRecord {
  readonly promoted: boolean;
  readonly reason: string;
  /** The version this run registered, if it got that far. */
  readonly version: number | null;
  /** The champion it was compared with (null: none, compared with the base rate). */
  readonly championVersion: number | null;
}

export interface StepRecord {
  readonly name: string;
  readonly status: StepStatus;
  readonly attempts: number;
  /** Epoch ms (wall time) of the latest attempt's start and end. */
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
  readonly durationMs: number | null;
  readonly output: unknown;
  readonly error: ErrorRecord | null;
}

export interface RunRecord {
  readonly id: string;
  readonly pipeline: string;
  readonly trigger: string;
  readonly status: RunStatus;
  /** Event-time range of the training data, epoch ms, `[from, to)`. */
  readonly range: { readonly from: number; readonly to: number } | null;
  readonly params: unknown;
  readonly createdAt: number;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
  readonly error: ErrorRecord | null;
  readonly gate: GateRecord | null;
  /** Every step of the pipeline in execution order; steps never started are `pending`. */
  readonly steps: readonly StepRecord[];
}

export interface NewRun {
  readonly id: string;
  readonly pipeline: string;
  readonly trigger: string;
  readonly range: { readonly from: number; readonly to: number } | null;
  readonly params: unknown;
  /** Step names in execution order. */
  readonly steps: readonly string[];
}

export interface RunQuery {
  /** Most runs returned (default 50). */
  readonly limit?: number;
  readonly pipeline?: string;
  readonly status?: RunStatus;
  readonly trigger?: string;
}

export type StepStart = { readonly alreadySucceeded: false; readonly attempt: number } | { readonly alreadySucceeded: true; readonly output: unknown };

export interface RunStore {
  /** Where it lives, for messages (no secrets). */
  readonly location: string;
  createRun(run: NewRun): Promise<RunRecord>;
  /** PCTR_NOT_FOUND when there is no such run. */
  getRun(id: string): Promise<RunRecord>;
  findRun(id: string): Promise<RunRecord | null>;
  /** Newest first. */
  listRuns(query?: RunQuery): Promise<RunRecord[]>;
  /** Marks the step running and the run running (also a failed run being resumed). */
  startStep(runId: string, step: string): Promise<StepStart>;
  /** Records the output; returns the stored output, which is an earlier one if the step had already succeeded. */
  completeStep(runId: string, step: string, output: unknown, durationMs: number): Promise<unknown>;
  failStep(runId: string, step: string, error: ErrorRecord, durationMs: number): Promise<void>;
  /** Puts a failed run back to pending before it is submitted again (no-op for other states). */
  reopenRun(runId: string): Promise<RunRecord>;
  finishRun(runId: string, outcome: { readonly status: 'succeeded' | 'failed'; readonly error?: ErrorRecord }): Promise<RunRecord>;
  recordGate(runId: string, gate: GateRecord): Promise<void>;
  /** The most recently finished successful run of a pipeline, other than `exceptId`. */
  lastSucceeded(pipeline: string, exceptId?: string): Promise<RunRecord | null>;
  close(): Promise<void>;
}
