/**
 * The streaming aggregation process: reads `impressions` and `examples` from the event log
 * (consumer group `aggregate`), updates the windowed counts, and flushes the entities that changed
 * to the online store in batches (every `flushIntervalMs` of wall time or `flushEvents` events).
 *
 * Delivery: at-least-once towards the online store (a restart may put vectors again, which is
 * harmless: a put replaces the vector). The counts themselves are exact across crashes when a
 * `stateFile` is given: the window state is checkpointed with the input offsets it includes, group
 * offsets are committed only after that, and re-delivered records below the saved offsets are
 * skipped. Without a state file, offsets are committed once each flush is written, and a restart
 * begins with empty windows (counts refill as events arrive).
 *
 * Pacing: clicks are counted in their impression's bucket, so the examples stream must not fall
 * far behind the impressions stream (their buckets would have left the window). While the examples
 * consumer has a backlog, impressions more than `maxSkewMs` ahead of it in event time wait.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { errorMessage, silentLogger, TOPICS, type Logger } from '../../core/index.ts';
import type { Batch, Consumer, EventLog, LogRecord } from '../../events/index.ts';
import { ConsumedOffsets } from '../consumed-offsets.ts';
import type { CtrPrior, WindowSpec } from '../definitions.ts';
import type { FeatureRow, OnlineStore } from '../online-store/online-store.ts';
import type { EntitySnapshot, ParsedEvent } from './aggregator.ts';
import { Aggregator } from './aggregator.ts';
import { readAggregatorState, writeAggregatorState } from './state-file.ts';

export interface AggregateRunnerOptions {
  readonly log: EventLog;
  readonly store: OnlineStore;
  readonly group?: string;
  readonly windows?: readonly WindowSpec[];
  readonly prior?: CtrPrior;
  /** Where the window state is checkpointed (exact restarts); none = restart with empty windows. */
  readonly stateFile?: string;
  /**
   * After restoring the state, write every held entity again: for a store that cannot have kept its
   * contents across the restart (memory), or one known to have lost them.
   */
  readonly resync?: boolean;
  readonly flushIntervalMs?: number;
  readonly flushEvents?: number;
  readonly checkpointIntervalMs?: number;
  readonly pollMax?: number;
  readonly pollWaitMs?: number;
  /** How far (event time) impressions may run ahead of an examples stream that has a backlog. */
  readonly maxSkewMs?: number;
  /** Attribution window of the join: a negative example is emitted about this long after its impression. */
  readonly attributionWindowMs?: number;
  /** Point-in-time snapshots of changed entities, every `everyMs` of event time. */
  readonly snapshots?: { write(snapshots: readonly EntitySnapshot[]): Promise<void>; everyMs: number };
  readonly logger?: Logger;
  /** Wall clock for flush cadence only (windows use event time). */
  readonly wallNow?: () => number;
}

export interface AggregateProgress {
  readonly records: number;
  readonly impressions: number;
  readonly clicks: number;
  readonly invalid: number;
  /** Counts dropped because their bucket had already left a window (per entity and window). */
  readonly late: number;
  /** Re-delivered records already included in the restored state. */
  readonly skipped: number;
  readonly flushedRows: number;
  readonly flushes: number;
  readonly snapshotRows: number;
  readonly eventTime: number;
  readonly entities: Record<string, number>;
  readonly flushErrors: number;
}

export class AggregateRunner {
  readonly aggregator: Aggregator;
  private readonly opts: Required<Omit<AggregateRunnerOptions, 'stateFile' | 'snapshots' | 'windows' | 'prior' | 'logger' | 'resync'>> & AggregateRunnerOptions;
  private readonly logger: Logger;
  private impressions!: Consumer;
  private examples!: Consumer;
  private impOffsets!: ConsumedOffsets;
  private exOffsets!: ConsumedOffsets;
  /** Polled impressions not yet applied (held back while the examples stream catches up). */
  private impQueue: readonly LogRecord[] = [];
  private impParsed: (ParsedEvent | null)[] = [];
  private impNext = 0;
  /** Event time the examples stream has reached, and whether it has more waiting. */
  private exTime = -Infinity;
  private exBacklog = false;
  private lastFlush: number;
  private lastCheckpoint: number;
  private checkpointEveryMs: number;
  private eventsSinceFlush = 0;
  private nextSnapshotAt = -Infinity;
  /** The online-store write of the last flush (then its commit, without a state file). */
  private inflight: Promise<void> | null = null;
  private counters = { records: 0, skipped: 0, flushedRows: 0, flushes: 0, snapshotRows: 0, flushErrors: 0 };

  constructor(opts: AggregateRunnerOptions) {
    this.opts = {
      group: 'aggregate',
      flushIntervalMs: 1000,
      flushEvents: 50_000,
      checkpointIntervalMs: 10_000,
      pollMax: 4096,
      pollWaitMs: 200,
      maxSkewMs: 10 * 60_000,
      attributionWindowMs: 30 * 60_000,
      wallNow: () => performance.now(),
      ...opts,
    };
    this.logger = opts.logger ?? silentLogger;
    this.aggregator = new Aggregator({ windows: opts.windows, prior: opts.prior, snapshots: opts.snapshots !== undefined });
    this.lastFlush = this.lastCheckpoint = this.opts.wallNow();
    this.checkpointEveryMs = this.opts.checkpointIntervalMs;
  }

  /** Restore the checkpointed state (if any) and subscribe. */
  async start(): Promise<void> {
    const saved = this.opts.stateFile ? readAggregatorState(this.opts.stateFile) : null;
    if (saved) {
      this.aggregator.importState(saved.state);
      if (this.opts.resync) for (const c of Object.values(this.aggregator.counters)) c.touchAll();
      this.logger.info({ eventTime: saved.state.eventTime, entities: this.aggregator.sizes() }, 'aggregate: restored window state');
    }
    this.impOffsets = new ConsumedOffsets(TOPICS.impressions, saved?.offsets[TOPICS.impressions]);
    this.exOffsets = new ConsumedOffsets(TOPICS.examples, saved?.offsets[TOPICS.examples]);
    this.impressions = this.opts.log.subscribe(TOPICS.impressions, this.opts.group);
    this.examples = this.opts.log.subscribe(TOPICS.examples, this.opts.group);
  }

  /** One poll of each stream, applied; flushes and checkpoints when due. Returns the records read. */
  async step(): Promise<number> {
    const exBatch = await this.examples.poll(this.opts.pollMax, 0);
    this.exBacklog = exBatch.records.length === this.opts.pollMax;
    this.applyExamples(exBatch);
    let read = exBatch.records.length;
    if (this.impNext === this.impQueue.length) {
      const impBatch = await this.impressions.poll(this.opts.pollMax, read > 0 ? 0 : this.opts.pollWaitMs);
      this.queueImpressions(impBatch);
      read += impBatch.records.length;
    }
    this.applyImpressions();
    const now = this.opts.wallNow();
    if (this.eventsSinceFlush >= this.opts.flushEvents || now - this.lastFlush >= this.opts.flushIntervalMs) {
      await this.flush();
      if (this.opts.stateFile && now - this.lastCheckpoint >= this.checkpointEveryMs) await this.checkpoint();
    }
    return read;
  }

  /** Run until `signal` aborts (or, with `untilIdle`, until both streams have nothing new), then flush and checkpoint. */
  async run(opts: { signal?: AbortSignal; untilIdle?: boolean; onProgress?: (p: AggregateProgress) => void; progressEveryMs?: number } = {}): Promise<void> {
    let lastProgress = this.opts.wallNow();
    while (!opts.signal?.aborted) {
      const read = await this.step();
      // Polls that find data resolve without I/O: let timers (progress, signals) and other work run.
      await yieldToEventLoop();
      if (opts.onProgress && this.opts.wallNow() - lastProgress >= (opts.progressEveryMs ?? 1000)) {
        lastProgress = this.opts.wallNow();
        opts.onProgress(this.progress());
      }
      if (opts.untilIdle && read === 0) break;
    }
    await this.flush();
    await this.checkpoint();
    opts.onProgress?.(this.progress());
  }

  /**
   * Put every changed entity into the online store (and due snapshots into the offline store). The
   * put runs while the next events are applied; the next flush or checkpoint waits for it first.
   */
  async flush(): Promise<void> {
    await this.settle();
    const rows = this.aggregator.flushRows();
    this.eventsSinceFlush = 0;
    this.lastFlush = this.opts.wallNow();
    // Without a state file, offsets are committed once the vectors they produced are written.
    const commits = this.opts.stateFile ? null : this.takeCommits();
    this.inflight = this.write(rows).then(() => (commits ? this.commitBatches(commits) : undefined));
    const snap = this.opts.snapshots;
    if (snap && this.aggregator.eventTime >= this.nextSnapshotAt) {
      const snapshots = this.aggregator.snapshotRows();
      if (snapshots.length > 0) await snap.write(snapshots);
      this.counters.snapshotRows += snapshots.reduce((n, s) => n + s.keys.length, 0);
      this.nextSnapshotAt = (Math.floor(this.aggregator.eventTime / snap.everyMs) + 1) * snap.everyMs;
    }
  }

  /** Wait for the write started by the last flush (and its commit). */
  async settle(): Promise<void> {
    const pending = this.inflight;
    this.inflight = null;
    await pending;
  }

  /** Save the window state with the offsets it includes, then commit those offsets to the group. */
  async checkpoint(): Promise<void> {
    // Rows drained from the state must be in the store before a state without their flags is saved.
    await this.settle();
    const started = this.opts.wallNow();
    if (this.opts.stateFile) {
      writeAggregatorState(this.opts.stateFile, this.aggregator.exportState(), {
        [TOPICS.impressions]: this.impOffsets.offsets(),
        [TOPICS.examples]: this.exOffsets.offsets(),
      });
    }
    this.lastCheckpoint = this.opts.wallNow();
    // A big state (millions of entities) takes a while to write: keep checkpoints under ~10% of the time.
    this.checkpointEveryMs = Math.max(this.opts.checkpointIntervalMs, 10 * (this.lastCheckpoint - started));
    await this.commitBatches(this.takeCommits());
  }

  private async write(rows: FeatureRow[]): Promise<void> {
    if (rows.length === 0) return;
    try {
      await this.opts.store.put(rows);
      this.counters.flushedRows += rows.length;
      this.counters.flushes++;
    } catch (e) {
      // Keep counting: the entities are marked changed again, so the next flush (or, after a
      // restart, the checkpointed state's flags) writes their then-current vectors.
      this.aggregator.touch(rows.map((r) => r.ref));
      this.counters.flushErrors++;
      this.logger.error({ err: errorMessage(e), rows: rows.length }, 'aggregate: online store put failed; will retry');
    }
  }

  progress(): AggregateProgress {
    const s = this.aggregator.stats;
    let late = 0;
    for (const c of Object.values(this.aggregator.counters)) for (const n of c.late) late += n;
    return { ...this.counters, impressions: s.impressions, clicks: s.clicks, invalid: s.invalid, late, eventTime: this.aggregator.eventTime, entities: this.aggregator.sizes() };
  }

  async close(): Promise<void> {
    await this.inflight?.catch(() => undefined);
    await this.impressions?.close();
    await this.examples?.close();
  }

  private takeCommits(): [Consumer, Batch][] {
    const out: [Consumer, Batch][] = [];
    const imp = this.impOffsets.takeCommit();
    const ex = this.exOffsets.takeCommit();
    if (imp) out.push([this.impressions, imp]);
    if (ex) out.push([this.examples, ex]);
    return out;
  }

  private async commitBatches(commits: [Consumer, Batch][]): Promise<void> {
    for (const [consumer, batch] of commits) await consumer.commit(batch);
  }

  private queueImpressions(batch: Batch): void {
    const n = batch.records.length;
    this.impQueue = batch.records;
    this.impParsed = new Array<ParsedEvent | null>(n);
    this.impNext = 0;
    this.counters.records += n;
    for (let i = 0; i < n; i++) {
      const r = batch.records[i];
      if (this.impOffsets.covered(r)) {
        this.counters.skipped++;
        this.impParsed[i] = null;
      } else {
        this.impParsed[i] = this.aggregator.parse('impression', r.value);
      }
    }
  }

  /**
   * Apply queued impressions, except those too far ahead of the examples stream while it has a
   * backlog: their clicks would arrive after the impression's bucket left the window.
   */
  private applyImpressions(): void {
    const agg = this.aggregator;
    const limit = this.exBacklog ? this.exTime + this.opts.maxSkewMs : Infinity;
    while (this.impNext < this.impQueue.length) {
      const e = this.impParsed[this.impNext];
      if (e !== null && e.ts > limit) break;
      if (e !== null) {
        agg.apply(e);
        this.eventsSinceFlush++;
      }
      this.impOffsets.applied(this.impQueue[this.impNext++]);
    }
  }

  private applyExamples(batch: Batch): void {
    const agg = this.aggregator;
    const windowMs = this.opts.attributionWindowMs;
    this.counters.records += batch.records.length;
    for (const r of batch.records) {
      if (this.exOffsets.covered(r)) {
        this.counters.skipped++;
        continue;
      }
      const e = agg.parse('example', r.value);
      if (e === null) continue;
      // When the join emitted it, roughly: at the click for a positive, at the window's end for a negative.
      const emitted = e.what === 'click' ? e.clickTs : e.ts + windowMs;
      if (emitted > this.exTime) this.exTime = emitted;
      if (e.what === 'click') {
        agg.apply(e);
        this.eventsSinceFlush++;
      }
    }
    this.exOffsets.add(batch);
  }
}
