/**
 * Input bookkeeping shared by the aggregator and the offline sink, which both commit to the log
 * only after their output is durable (flushed / checkpointed), possibly many polls later.
 *
 * It merges the polled batches of one consumer into one commit — the contract's `commit(batch)`
 * covers the batch "and everything before it", so the highest next offset per partition stands for
 * all of them and the batches need not be kept — and it remembers the offsets already included in
 * restored state, so records re-delivered after a restart are recognised and skipped.
 */
import type { Batch, LogRecord } from '../events/index.ts';

/** topic → partition → next offset. */
export type TopicOffsets = Record<string, Record<string, number>>;

export class ConsumedOffsets {
  private readonly restored: Map<number, number>;
  private readonly consumed: Map<number, number>;
  private readonly pendingOffsets = new Map<number, number>();

  constructor(
    readonly topic: string,
    restored: Record<string, number> = {},
  ) {
    this.restored = new Map(Object.entries(restored).map(([p, o]) => [Number(p), o]));
    this.consumed = new Map(this.restored);
  }

  /** True when the record's effect is already in the restored state (a re-delivery after restart). */
  covered(r: LogRecord): boolean {
    const at = this.restored.get(r.partition);
    return at !== undefined && r.offset < at;
  }

  /** Note a polled batch as processed (its effect is in memory, not yet durable). */
  add(batch: Batch): void {
    const offsets = batch.nextOffsetsByTopic.get(this.topic) ?? batch.nextOffsets;
    for (const [p, next] of offsets) {
      if ((this.pendingOffsets.get(p) ?? -1) < next) this.pendingOffsets.set(p, next);
      if ((this.consumed.get(p) ?? -1) < next) this.consumed.set(p, next);
    }
  }

  /** Note one record as processed (for consumers that apply a batch's records over several steps). */
  applied(r: LogRecord): void {
    const next = r.offset + 1;
    if ((this.pendingOffsets.get(r.partition) ?? -1) < next) this.pendingOffsets.set(r.partition, next);
    if ((this.consumed.get(r.partition) ?? -1) < next) this.consumed.set(r.partition, next);
  }

  /** Everything processed so far, to save with the state it produced. */
  offsets(): Record<string, number> {
    return Object.fromEntries([...this.consumed].map(([p, o]) => [String(p), o]));
  }

  /** One batch standing for every batch added since the last call (null when none). */
  takeCommit(): Batch | null {
    if (this.pendingOffsets.size === 0) return null;
    const nextOffsets = new Map(this.pendingOffsets);
    const batch: Batch = { records: [], nextOffsets, nextOffsetsByTopic: new Map([[this.topic, nextOffsets]]) };
    this.pendingOffsets.clear();
    return batch;
  }
}
