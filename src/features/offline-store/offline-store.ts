/**
 * The offline store contract: labeled examples by event time, for training and evaluation.
 *
 * Promises: examples are partitioned by the hour of their event time `ts`; `read` returns exactly
 * the examples with `from ≤ ts < to`, ordered by (ts, impressionId), as columnar batches with labels
 * and ts; `writeExamples` under a name that was written before replaces that write (so a retried
 * write is idempotent), and a write is all-or-nothing per hour file. Features are those logged with
 * the impression (as served: point-in-time correct by construction); `pointInTime` can instead
 * attach an entity's aggregates from snapshots taken strictly before each example's ts.
 * Leaves out: updates or deletes of single examples, a query language (use DuckDB on the files).
 */
import type { FeatureSchema, LabeledExample, RawBatch } from '../../core/index.ts';
import type { EntitySnapshot } from '../aggregates/aggregator.ts';
import type { CtrPrior, EntityType } from '../definitions.ts';

/** Event-time range `[from, to)` in epoch ms. */
export interface TimeRange {
  readonly from: number;
  readonly to: number;
}

export interface ReadOptions {
  /** Examples per batch (the last may be smaller); default 8192. */
  readonly batchSize?: number;
  /**
   * Keep each negative with probability w (0 < w ≤ 1), every positive always — He et al. 2014's
   * negative downsampling; recalibrate with q = p / (p + (1 − p) / w). Deterministic per (impressionId, seed).
   */
  readonly sampleNegatives?: number;
  readonly seed?: number;
  /**
   * Entity types whose aggregate features come from the aggregator's snapshots as of each example's
   * time (latest snapshot strictly before `ts`, ASOF join) instead of the logged values; an entity
   * with no snapshot then gets the cold defaults of `prior`.
   */
  readonly pointInTime?: readonly EntityType[];
  readonly prior?: CtrPrior;
}

export interface OfflineStats {
  readonly rows: number;
  readonly positives: number;
  /** Null when the range holds no example. */
  readonly minTs: number | null;
  readonly maxTs: number | null;
}

export interface OfflineStore {
  /** Write examples (any hours) as one file per hour named `name`; returns the files written. */
  writeExamples(examples: readonly LabeledExample[], name: string): Promise<string[]>;
  /** Write entity-feature snapshots (for point-in-time reads); a snapshot of the same entity type and ts replaces the earlier one. */
  writeSnapshots(snapshots: readonly EntitySnapshot[]): Promise<void>;
  read(range: TimeRange, schema: FeatureSchema, opts?: ReadOptions): AsyncIterable<RawBatch>;
  stats(range: TimeRange): Promise<OfflineStats>;
  close(): Promise<void>;
}
