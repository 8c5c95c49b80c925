/**
 * The messages of `pctr start --workers` between the primary and its gateway workers, over the
 * cluster IPC channel (advanced serialization, so typed arrays and plain records clone as they are).
 * The event log's appends have their own pair in ipc-sink.ts.
 *
 *   primary → worker:  init (config, listen address, the replica's snapshot) · features (rows the
 *                      aggregates just wrote) · clock (event time) · drain (stop accepting, flush, exit)
 *   worker → primary:  ready (listening for init) · listening (bound port) · stats (every STATS_EVERY_MS, and a last one on drain)
 */
import type { Config } from '../core/index.ts';
import type { FeatureRow } from '../features/index.ts';

export const WORKER_STATS_EVERY_MS = 500;
export const CLOCK_EVERY_MS = 100;

export interface WorkerInit {
  readonly type: 'pctr.init';
  readonly config: Config;
  readonly host: string;
  readonly port: number;
  /** Event time now (the simulator's clock under --sim). */
  readonly now: number;
  /** Every entity's latest feature vector, for the worker's replica of a memory online store (empty otherwise). */
  readonly snapshot: readonly FeatureRow[];
}

export interface FeatureRows {
  readonly type: 'pctr.features';
  readonly rows: readonly FeatureRow[];
}

export interface ClockTick {
  readonly type: 'pctr.clock';
  readonly now: number;
}

export interface Drain {
  readonly type: 'pctr.drain';
}

export type ToWorker = WorkerInit | FeatureRows | ClockTick | Drain;

/** The worker's module loaded and waits for its init (sent earlier, it could arrive before the listener). */
export interface WorkerReady {
  readonly type: 'pctr.ready';
}

export interface WorkerListening {
  readonly type: 'pctr.listening';
  readonly port: number;
}

/** What one gateway worker served (cumulative since it started). */
export interface WorkerStats {
  readonly type: 'pctr.worker-stats';
  readonly pid: number;
  readonly rankRequests: number;
  readonly impressionsLogged: number;
  readonly impressionsDropped: number;
  /** Impressions served per model version (`name@version`, or the prior's label). */
  readonly versions: Readonly<Record<string, number>>;
  /** The version the worker's model holder serves now. */
  readonly model: string;
  /** True on the last report, sent once the worker drained. */
  readonly final: boolean;
}

export type FromWorker = WorkerReady | WorkerListening | WorkerStats;

export function isMessage<T extends { readonly type: string }>(m: unknown, type: T['type']): m is T {
  return typeof m === 'object' && m !== null && (m as { type?: unknown }).type === type;
}
