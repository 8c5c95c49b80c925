/**
 * The join of one partition as a pure, synchronous state machine: impressions and clicks in,
 * labeled examples, unattributed clicks and dead letters out. No I/O and no clock: the caller feeds
 * records and moves the watermark, so the same inputs always give the same outputs.
 *
 * Rules (W = attribution window, wm = watermark, end = impression ts + W):
 * - a click with ts ≤ end on an impression whose window is open makes a positive at once;
 * - an impression whose end < wm without such a click makes a negative;
 * - a click after end, or one that arrives after the negative was emitted, is late;
 * - further clicks on a positive are duplicates (counted, not emitted);
 * - a click with no known impression waits until wm passes its own ts, then is unknown; so is a
 *   click more than the late-click horizon after its impression's window;
 * - late and unknown clicks go to the side topic, unreadable records to the dead-letter topic.
 */
import { RecordBuffer } from '../events/index.ts';
import { EarlyClicks } from './early-clicks.ts';
import { ExampleRecords } from './example-records.ts';
import { CLOSED, ImpressionStore, POSITIVE } from './impression-store.ts';
import { deltaDecode, deltaEncode, fromTime, toTime, zeroCounters, type JoinCounters, type PartitionState } from './join-state.ts';
import { MinHeap } from './min-heap.ts';
import { checkClick, checkImpression } from './record-check.ts';
import type { JoinRecord } from './join-record.ts';
export { textRecord, type JoinRecord } from './join-record.ts';
import { deadLetterText, isImpressionBytes, readTsBytes, unattributedText, type UnattributedReason } from './record-text.ts';

export interface JoinWindow {
  readonly attributionWindowMs: number;
  readonly maxOutOfOrdernessMs: number;
  /** How long after its window a labeled impression is remembered, to tell a late click from an unknown one. */
  readonly lateClickHorizonMs: number;
}

function valueText(rec: JoinRecord): string {
  return rec.bytes.toString('utf8', rec.start, rec.end);
}

/** Records produced since the last checkpoint, per output topic, encoded as they are made. */
export class JoinOutput {
  readonly examples = new ExampleRecords(4096);
  readonly unattributed = new RecordBuffer(4096, 64);
  readonly deadLetters = new RecordBuffer(4096, 16);

  get size(): number {
    return this.examples.length + this.unattributed.length + this.deadLetters.length;
  }

  clear(): void {
    this.examples.clear();
    this.unattributed.clear();
    this.deadLetters.clear();
  }
}

/** Watermark after a drain: later than any event time. */
export const END_OF_TIME = Number.MAX_SAFE_INTEGER;

export class PartitionJoin {
  readonly counters: JoinCounters;
  // Sized for a partition's share of a busy worker (tens of thousands of impressions held), so they rarely grow.
  private readonly store = new ImpressionStore(1 << 14);
  private readonly timers = new MinHeap(1 << 13);
  private readonly early = new EarlyClicks();
  private readonly window: number;
  private readonly bound: number;
  private readonly horizon: number;
  /** Validate every record against the core schemas (slow; for producers that do not validate). */
  private readonly validate: boolean;
  private wm = -Infinity;
  private impMax = -Infinity;
  private clickMax = -Infinity;
  private impNext = 0;
  private clickNext = 0;
  private duplicateOffsets: number[] = [];
  /** Offsets of positives, only while replaying after a restore. */
  private replayPositives: Set<number> | null = null;
  private replayDuplicates: Set<number> | null = null;
  private readonly isExpired = (seq: number): boolean =>
    (this.store.flags(seq) & CLOSED) !== 0 && this.store.ts(seq) + this.window + this.horizon < this.wm;

  constructor(
    readonly topics: { readonly impressions: string; readonly clicks: string },
    readonly partition: number,
    w: JoinWindow,
    state: PartitionState | null = null,
    opts: { validate?: boolean } = {},
  ) {
    this.validate = opts.validate ?? false;
    this.window = w.attributionWindowMs;
    this.bound = w.maxOutOfOrdernessMs;
    this.horizon = w.lateClickHorizonMs;
    this.counters = zeroCounters();
    if (state) {
      Object.assign(this.counters, state.counters);
      this.impNext = state.impNext;
      this.clickNext = state.clickNext;
      this.wm = fromTime(state.watermark);
      this.impMax = fromTime(state.maxImpressionTs);
      this.clickMax = fromTime(state.maxClickTs);
      this.duplicateOffsets = state.duplicateImpressions.slice();
      for (const [key, ts] of state.early) this.early.add(key, ts);
      this.replayPositives = new Set(deltaDecode(state.positives));
      this.replayDuplicates = new Set(state.duplicateImpressions);
    }
  }

  get watermark(): number {
    return this.wm;
  }
  /** Largest impression event time processed. */
  get maxImpressionTs(): number {
    return this.impMax;
  }
  /** Largest click event time processed. */
  get maxClickTs(): number {
    return this.clickMax;
  }
  /** Next impression offset to read (everything before it is reflected in this state). */
  get impressionOffset(): number {
    return this.impNext;
  }
  get clickOffset(): number {
    return this.clickNext;
  }
  /** Impressions whose window is open. */
  get pending(): number {
    return this.timers.size;
  }
  get waitingClicks(): number {
    return this.early.size;
  }

  /** Where a partition without a checkpoint starts reading (the log's committed offsets, usually 0). */
  startAt(impressionOffset: number, clickOffset: number): void {
    this.impNext = impressionOffset;
    this.clickNext = clickOffset;
  }

  /**
   * Rebuild one impression of the replayed range [replayFrom, impNext) after a restore: no output,
   * no counters, the decisions taken before the crash come from the checkpoint.
   */
  replayImpression(rec: JoinRecord): void {
    const ts = readTsBytes(rec.bytes, rec.start, rec.end);
    if (!(ts >= 0) || this.replayDuplicates?.has(rec.offset) || !isImpressionBytes(rec.bytes, rec.start, rec.end)) return;
    if (this.validate && checkImpression(rec.key, valueText(rec)) !== null) return;
    const end = ts + this.window;
    if (end + this.horizon < this.wm) return;
    const positive = this.replayPositives?.has(rec.offset) ? POSITIVE : 0;
    const prev = this.store.find(rec.key);
    if (end < this.wm) this.store.add(rec, ts, CLOSED | positive, prev, false);
    else this.timers.push(end, this.store.add(rec, ts, positive, prev, true));
  }

  /** End of replay: from here on, records are new input. */
  finishReplay(): void {
    this.replayPositives = null;
    this.replayDuplicates = null;
  }

  impression(rec: JoinRecord, out: JoinOutput): void {
    this.impNext = rec.offset + 1;
    this.counters.impressions++;
    const ts = readTsBytes(rec.bytes, rec.start, rec.end);
    const invalid = !(ts >= 0) ? 'no integer ts' : !isImpressionBytes(rec.bytes, rec.start, rec.end) ? 'not an impression' : this.validate ? checkImpression(rec.key, valueText(rec)) : null;
    if (invalid !== null) {
      this.deadLetter(this.topics.impressions, rec, invalid, out);
      return;
    }
    if (ts > this.impMax) this.impMax = ts;
    const prev = this.store.find(rec.key);
    if (prev >= 0 && !this.isExpired(prev)) {
      this.counters.duplicateImpressions++;
      this.duplicateOffsets.push(rec.offset);
      return;
    }
    const end = ts + this.window;
    let clickTs = -1;
    const waiting = this.early.size > 0 ? this.early.take(rec.key, this.wm) : undefined;
    if (waiting) {
      for (const c of waiting) {
        if (c.ts > end) this.unattributed('late', rec.key, c.ts, ts, out);
        else if (clickTs >= 0) this.counters.duplicateClicks++;
        else clickTs = c.ts;
      }
    }
    const closed = end < this.wm;
    if (closed) this.counters.lateImpressions++;
    const flags = (clickTs >= 0 ? POSITIVE : 0) | (closed ? CLOSED : 0);
    if (clickTs >= 0) this.emit(rec.key, rec.bytes, rec.start, rec.end, 1, clickTs, out);
    else if (closed) this.emit(rec.key, rec.bytes, rec.start, rec.end, 0, null, out);
    if (!closed) this.timers.push(end, this.store.add(rec, ts, flags, prev, true));
    else if (end + this.horizon >= this.wm) this.store.add(rec, ts, flags, prev, false);
  }

  click(rec: JoinRecord, out: JoinOutput): void {
    this.clickNext = rec.offset + 1;
    this.counters.clicks++;
    const ts = readTsBytes(rec.bytes, rec.start, rec.end);
    const invalid = !(ts >= 0) ? 'no integer ts' : this.validate ? checkClick(rec.key, valueText(rec)) : null;
    if (invalid !== null) {
      this.deadLetter(this.topics.clicks, rec, invalid, out);
      return;
    }
    if (ts > this.clickMax) this.clickMax = ts;
    const seq = this.store.find(rec.key);
    if (seq >= 0 && !this.isExpired(seq)) {
      const flags = this.store.flags(seq);
      const impTs = this.store.ts(seq);
      // Beyond the horizon a click is unknown even while its impression is still held, so the
      // reason depends on event times only, not on when the click happened to be read.
      if (ts > impTs + this.window + this.horizon) this.unattributed('unknown', rec.key, ts, null, out);
      else if (ts > impTs + this.window) this.unattributed('late', rec.key, ts, impTs, out);
      else if (flags & POSITIVE) this.counters.duplicateClicks++;
      else if (flags & CLOSED) this.unattributed('late', rec.key, ts, impTs, out);
      else {
        this.store.setFlag(seq, POSITIVE);
        this.emitHeld(seq, 1, ts, out);
      }
    } else if (ts < this.wm) {
      this.unattributed('unknown', rec.key, ts, null, out);
    } else {
      this.early.add(rec.key, ts);
    }
  }

  /**
   * Move the watermark forward (never back) and fire what it passes: negatives for impressions whose
   * window ended, unknown for clicks whose impression can no longer come.
   */
  advance(watermark: number, out: JoinOutput): void {
    if (!(watermark > this.wm)) return;
    this.wm = watermark;
    const timers = this.timers;
    const store = this.store;
    while (timers.peekKey() < watermark) {
      const seq = timers.pop();
      if ((store.flags(seq) & POSITIVE) === 0) this.emitHeld(seq, 0, null, out);
      store.close(seq);
    }
    if (this.early.size > 0) this.early.expire(watermark, (key, ts) => this.unattributed('unknown', key, ts, null, out));
    store.freeHead(this.isExpired);
  }

  /**
   * The watermark this partition's own input allows: the largest event time of its slower stream,
   * minus the bound. An idle stream (read to its end and silent) does not hold it back; when both
   * are idle, the newer one counts. `clickFront` is the time of clicks read but not yet fed.
   */
  ownWatermark(opts: { impressionsIdle: boolean; clicksIdle: boolean; clickFront?: number }): number {
    const imp = this.impMax;
    const clk = Math.max(this.clickMax, opts.clickFront ?? -Infinity);
    const front = opts.impressionsIdle && opts.clicksIdle ? Math.max(imp, clk) : Math.min(opts.impressionsIdle ? Infinity : imp, opts.clicksIdle ? Infinity : clk);
    return front - this.bound;
  }

  /** Treat the end of input as the end of time: label every pending impression, give up on waiting clicks. */
  drain(out: JoinOutput): void {
    this.advance(END_OF_TIME, out);
  }

  snapshot(): PartitionState {
    this.store.freeHead(this.isExpired);
    const replayFrom = this.store.oldestOffset(this.impNext);
    this.duplicateOffsets = this.duplicateOffsets.filter((o) => o >= replayFrom);
    return {
      v: 1,
      impNext: this.impNext,
      clickNext: this.clickNext,
      watermark: toTime(this.wm),
      maxImpressionTs: toTime(this.impMax),
      maxClickTs: toTime(this.clickMax),
      replayFrom,
      positives: deltaEncode(this.store.offsetsWith(POSITIVE)),
      duplicateImpressions: this.duplicateOffsets.slice(),
      early: this.early.list().map((c) => [c.key, c.ts] as [string, number]),
      counters: { ...this.counters },
    };
  }

  /** Emit the example of a pending impression of the store. */
  private emitHeld(seq: number, label: 0 | 1, clickTs: number | null, out: JoinOutput): void {
    const store = this.store;
    this.emit(store.key(seq), store.valueBytes(seq), store.valueStart(seq), store.valueEnd(seq), label, clickTs, out);
  }

  /** Emit the example of the impression `bytes[start, end)`. */
  private emit(key: string, bytes: Buffer, start: number, end: number, label: 0 | 1, clickTs: number | null, out: JoinOutput): void {
    if (!out.examples.add(key, bytes, start, end, label, clickTs)) {
      this.counters.invalid++;
      out.deadLetters.add(key, deadLetterText(this.topics.impressions, this.partition, -1, 'impression text cannot be labeled', bytes.toString('utf8', start, end)));
      return;
    }
    if (label === 1) this.counters.positives++;
    else this.counters.negatives++;
  }

  private unattributed(reason: UnattributedReason, key: string, ts: number, impressionTs: number | null, out: JoinOutput): void {
    if (reason === 'late') this.counters.lateClicks++;
    else this.counters.unknownClicks++;
    out.unattributed.add(key, unattributedText(reason, key, ts, impressionTs));
  }

  private deadLetter(topic: string, rec: JoinRecord, reason: string, out: JoinOutput): void {
    this.counters.invalid++;
    out.deadLetters.add(rec.key, deadLetterText(topic, this.partition, rec.offset, reason, valueText(rec)));
  }
}
