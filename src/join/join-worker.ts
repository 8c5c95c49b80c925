/**
 * The join worker: drives one PartitionJoin per owned partition from the event log. One
 * transactional consumer reads impressions and clicks of those partitions; every
 * `checkpointIntervalMs` the outputs, every partition's state and both input offsets commit
 * atomically, so after a kill -9 the worker restores the last commit, replays the impressions still
 * held (from each partition's `replayFrom`) and goes on, emitting every label exactly once.
 */
import { silentLogger, type Logger } from '../core/index.ts';
import type { EncodedBatch, EventLog, RecordBuffer, TransactionalConsumer } from '../events/index.ts';
import { ClickHold } from './click-hold.ts';
import type { ExampleRecords } from './example-records.ts';
import { restorePartitions } from './join-restore.ts';
import { JOIN_TOPICS, type JoinTopics } from './options.ts';
import { JoinOutput, type JoinRecord, type JoinWindow, type PartitionJoin } from './partition-join.ts';
import { StreamProgress } from './stream-progress.ts';
import { collectStats, type JoinStats, type WorkerFigures } from './join-stats.ts';

export interface JoinWorkerOptions extends JoinWindow {
  readonly partitions: readonly number[];
  readonly checkpointIntervalMs: number;
  readonly idleTimeoutMs: number;
  /** Transactional id (default `join`); the same id after a restart resumes the work. */
  readonly id?: string;
  readonly topics?: JoinTopics;
  /** Records per poll (default 8192). */
  readonly pollMax?: number;
  /** Commit before the interval when this many output records are waiting (default 200k). */
  readonly maxBufferedOutputs?: number;
  readonly logger?: Logger;
  /** Wall clock in ms for checkpoints and idleness (default performance.now). */
  readonly wallNow?: () => number;
  /** Validate every input record against the core schemas; invalid ones go to the dead-letter topic (slower). */
  readonly validate?: boolean;
  /** Called after each commit with what became visible (benchmarks measure label latency with it). */
  readonly onCommit?: (c: CommitReport) => void;
}

export interface CommitReport {
  /** Wall time (wallNow) when the commit completed. */
  readonly at: number;
  readonly durationMs: number;
  readonly stateBytes: number;
  /** The records committed; valid during the callback only (the buffers are reused). */
  readonly examples: ExampleRecords;
  readonly unattributed: RecordBuffer;
  readonly deadLetters: RecordBuffer;
}

export interface RunOptions {
  /** Stop once both input topics are read to their end (after a final commit). */
  readonly untilCaughtUp?: boolean;
  /** On stopping, treat the end of input as the end of time: label every pending impression (backfill of a finished log). */
  readonly drain?: boolean;
  readonly signal?: AbortSignal;
}

const HOLD_LIMIT = 50_000;

export class JoinWorker {
  private readonly parts: PartitionJoin[] = [];
  private readonly holds: ClickHold[] = [];
  private readonly progress: StreamProgress;
  private readonly topics: JoinTopics;
  private readonly pollMax: number;
  private readonly maxBuffered: number;
  private readonly now: () => number;
  private readonly log: Logger;
  /** Last state blob handed to a commit, per partition. */
  private readonly committed = new Map<number, string>();
  private inflight: Promise<void> | null = null;
  /** The record `route` hands to the joins, refilled for each input record (they copy what they keep). */
  private readonly view: { -readonly [K in keyof JoinRecord]: JoinRecord[K] } = { key: '', offset: 0, bytes: Buffer.alloc(0), start: 0, end: 0 };
  /** Output of the commit in flight, and one whose commit is done, to reuse. */
  private committing: JoinOutput | null = null;
  private spare: JoinOutput | null = null;
  private readonly figures: WorkerFigures = {
    eventsRead: 0,
    checkpoints: 0,
    lastCheckpointMs: 0,
    lastStateBytes: 0,
    maxStateBytes: 0,
    restoreMs: 0,
    replayedImpressions: 0,
    startedAt: 0,
  };

  private constructor(
    private readonly eventLog: EventLog,
    private readonly tx: TransactionalConsumer,
    private readonly opts: JoinWorkerOptions,
  ) {
    this.topics = opts.topics ?? JOIN_TOPICS;
    this.pollMax = opts.pollMax ?? 8192;
    this.maxBuffered = opts.maxBufferedOutputs ?? 200_000;
    this.now = opts.wallNow ?? (() => performance.now());
    this.log = opts.logger ?? silentLogger;
    this.progress = new StreamProgress(opts.partitions, opts.idleTimeoutMs);
    this.figures.startedAt = this.now();
  }

  /** Open the transactional consumer and restore every partition from its last commit. */
  static async open(eventLog: EventLog, opts: JoinWorkerOptions): Promise<JoinWorker> {
    const topics = opts.topics ?? JOIN_TOPICS;
    const tx = eventLog.transactional([topics.impressions, topics.clicks], opts.id ?? 'join', { partitions: opts.partitions });
    const worker = new JoinWorker(eventLog, tx, opts);
    try {
      await worker.restore();
    } catch (e) {
      await tx.close();
      throw e;
    }
    return worker;
  }

  get partitions(): readonly number[] {
    return this.opts.partitions;
  }

  stats(): JoinStats {
    return collectStats(this.opts.partitions.map((p) => this.parts[p]), this.holds, this.figures, this.now());
  }

  /** Join until stopped (signal), or until caught up with the input when `untilCaughtUp`. */
  async run(opts: RunOptions = {}): Promise<JoinStats> {
    let out = new JoinOutput();
    let lastCommit = this.now();
    let emptyPolls = 0;
    // poll returns at once when records are there; the wait only applies to an empty log.
    const wait = () => Math.max(0, Math.min(50, lastCommit + this.opts.checkpointIntervalMs - this.now()));
    // A rejected poll surfaces where it is awaited; the no-op handler keeps it from counting as unhandled meanwhile.
    const poll = (waitMs: number) => {
      const p = this.tx.pollEncoded(this.pollMax, waitMs);
      p.catch(() => undefined);
      return p;
    };
    let next = poll(0);
    try {
      while (!opts.signal?.aborted) {
        const batch = await next;
        // Read the next batch while this one is joined (the round trip to Redis, or the file read, overlaps).
        next = poll(wait());
        const n = batch.length;
        emptyPolls = n === 0 && this.heldClicks() === 0 ? emptyPolls + 1 : 0;
        this.route(batch, out);
        this.releaseClicks(out, n === 0);
        if (n === 0) this.progress.allCaughtUp(this.now());
        // End offsets tell a quiet partition from one not read yet; only needed near the live edge
      // (a full poll means a backlog, and reading it is what the worker should do).
      if (n < this.pollMax) await this.refreshEnds();
        this.advanceWatermarks(out);
        if (this.now() - lastCommit >= this.opts.checkpointIntervalMs || out.size >= this.maxBuffered) {
          await this.checkpoint(out, false);
          out = this.nextOutput();
          lastCommit = this.now();
        }
        if (opts.untilCaughtUp && emptyPolls >= 2) break;
      }
    } finally {
      // Records of a poll still in flight are not consumed: they are read again after a restart.
      await next.catch(() => undefined);
    }
    if (opts.drain) for (const p of this.opts.partitions) this.parts[p].drain(out);
    await this.checkpoint(out, true);
    return this.stats();
  }

  async close(): Promise<void> {
    await this.inflight?.catch(() => undefined);
    await this.tx.close();
  }

  private async restore(): Promise<void> {
    const t0 = this.now();
    const restored = await restorePartitions(this.tx, this.topics, this.opts, this.pollMax, this.log);
    for (const p of this.opts.partitions) {
      this.parts[p] = restored.parts[p];
      this.holds[p] = new ClickHold();
      const blob = restored.blobs.get(p);
      if (blob !== undefined) this.committed.set(p, blob);
    }
    this.figures.replayedImpressions = restored.replayed;
    this.figures.restoreMs = this.now() - t0;
    this.log.info({ partitions: this.opts.partitions, restoreMs: Math.round(this.figures.restoreMs), replayed: restored.replayed }, 'join: restored');
  }

  /** Feed a batch (input topics: 0 impressions, 1 clicks) to the partitions' joins, through one reused record view. */
  private route(batch: EncodedBatch, out: JoinOutput): void {
    const rec = this.view;
    for (let i = 0; i < batch.length; i++) {
      const p = batch.partition(i);
      const part = this.parts[p];
      const offset = batch.offset(i);
      const impression = batch.topicIndex(i) === 0;
      if (offset < (impression ? part.impressionOffset : part.clickOffset)) continue;
      rec.key = batch.key(i);
      rec.offset = offset;
      rec.bytes = batch.bytes(i);
      rec.start = batch.start(i);
      rec.end = batch.end(i);
      if (impression) part.impression(rec, out);
      else this.holds[p].push(rec);
      this.progress.received(impression ? 0 : 1, p);
    }
    this.figures.eventsRead += batch.length;
  }

  /**
   * Feed held clicks whose time the partition's impressions have reached (within the
   * out-of-orderness bound), all of them once the partition's impressions are read to their end
   * or the log is (an empty poll), and all when too many are held.
   */
  private releaseClicks(out: JoinOutput, emptyPoll: boolean): void {
    const all = emptyPoll || this.heldClicks() > HOLD_LIMIT;
    const bound = this.opts.maxOutOfOrdernessMs;
    for (const p of this.opts.partitions) {
      const hold = this.holds[p];
      if (hold.size === 0) continue;
      const part = this.parts[p];
      const limit = all || this.progress.caughtUp(0, p) ? Infinity : part.maxImpressionTs + bound;
      while (hold.size > 0 && hold.peekTs() <= limit) part.click(hold.shift(), out);
    }
  }

  private heldClicks(): number {
    let n = 0;
    for (const p of this.opts.partitions) n += this.holds[p].size;
    return n;
  }

  private async refreshEnds(): Promise<void> {
    const t = this.now();
    if (!this.progress.refreshDue(t)) return;
    const [imp, clk] = await Promise.all([this.eventLog.endOffsets(this.topics.impressions), this.eventLog.endOffsets(this.topics.clicks)]);
    for (const p of this.opts.partitions) {
      const part = this.parts[p];
      this.progress.ends(0, p, part.impressionOffset >= imp[p], t);
      this.progress.ends(1, p, this.holds[p].size === 0 && part.clickOffset >= clk[p], t);
    }
  }

  /**
   * Each partition's watermark follows its slower non-idle stream; a partition whose streams are
   * both idle also follows the furthest watermark among the worker's other partitions, so a quiet
   * partition never holds back its negatives (Kafka Streams' stall on quiet partitions).
   */
  private advanceWatermarks(out: JoinOutput): void {
    const t = this.now();
    let follow = -Infinity;
    let idleCount = 0;
    for (const p of this.opts.partitions) {
      const impressionsIdle = this.progress.idle(0, p, t);
      const clicksIdle = this.progress.idle(1, p, t);
      const part = this.parts[p];
      part.advance(part.ownWatermark({ impressionsIdle, clicksIdle, clickFront: this.holds[p].peekTs() }), out);
      if (part.watermark > follow) follow = part.watermark;
      if (impressionsIdle && clicksIdle) idleCount++;
    }
    if (idleCount === 0 || follow === -Infinity) return;
    for (const p of this.opts.partitions) {
      if (this.progress.idle(0, p, t) && this.progress.idle(1, p, t)) this.parts[p].advance(follow, out);
    }
  }

  /**
   * Commit the outputs since the last checkpoint with every changed partition's state and offsets.
   * The commit runs while the worker goes on joining (its I/O overlaps the next batches); the next
   * checkpoint, and the last one (`wait`), wait for it, so commits stay in order and a failed one
   * stops the worker before anything else is committed.
   */
  private async checkpoint(out: JoinOutput, wait: boolean): Promise<void> {
    if (this.inflight) await this.inflight;
    this.inflight = null;
    // The previous commit is done: its output buffers (grown to a checkpoint's worth) serve the next interval.
    this.spare = this.committing;
    this.spare?.clear();
    this.committing = null;
    const t0 = this.now();
    const state = new Map<number, string>();
    const impOffsets = new Map<number, number>();
    const clickOffsets = new Map<number, number>();
    let bytes = 0;
    // Only partitions whose state moved are committed (their state holds their offsets and
    // counters, so any input or output changes it); an idle partition costs no checkpoint write.
    for (const p of this.opts.partitions) {
      const part = this.parts[p];
      const blob = JSON.stringify(part.snapshot());
      if (blob === this.committed.get(p)) continue;
      state.set(p, blob);
      this.committed.set(p, blob);
      impOffsets.set(p, part.impressionOffset);
      clickOffsets.set(p, part.clickOffset);
      bytes += blob.length;
    }
    if (state.size === 0 && out.size === 0) return;
    const outputs = [
      { topic: this.topics.examples, records: out.examples },
      { topic: this.topics.unattributed, records: out.unattributed },
      { topic: this.topics.deadLetters, records: out.deadLetters },
    ].filter((o) => o.records.length > 0);
    const commit = this.tx
      .commit({
        offsets: impOffsets,
        offsetsByTopic: new Map([
          [this.topics.impressions, impOffsets],
          [this.topics.clicks, clickOffsets],
        ]),
        outputs,
        state,
      })
      .then(() => {
        const at = this.now();
        const f = this.figures;
        f.checkpoints++;
        f.lastCheckpointMs = at - t0;
        f.lastStateBytes = bytes;
        if (bytes > f.maxStateBytes) f.maxStateBytes = bytes;
        this.opts.onCommit?.({ at, durationMs: at - t0, stateBytes: bytes, examples: out.examples, unattributed: out.unattributed, deadLetters: out.deadLetters });
      });
    // Rejections surface where the commit is awaited; this only keeps an early one from counting as unhandled.
    commit.catch(() => undefined);
    this.inflight = commit;
    this.committing = out;
    if (wait) await commit;
  }

  /** An empty output for the next checkpoint interval. */
  private nextOutput(): JoinOutput {
    const out = this.spare ?? new JoinOutput();
    this.spare = null;
    return out;
  }
}
