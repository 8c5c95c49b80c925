/**
 * Clicks read but not yet fed to the join, per partition. The log hands out clicks (a few percent of
 * the traffic) much faster in event time than impressions, so during a catch-up the click stream
 * would run minutes ahead and every click would wait as "early" in the checkpointed state. Holding
 * them until the impressions of their partition catch up keeps that state small; they are not
 * consumed (not in the committed offsets) until fed, so a restart reads them again.
 */
import { readTsBytes } from './record-text.ts';
import type { JoinRecord } from './join-record.ts';

export class ClickHold {
  private recs: JoinRecord[] = [];
  private ts: number[] = [];
  private head = 0;

  get size(): number {
    return this.recs.length - this.head;
  }

  /** Hold a copy of `rec` (whose value bytes stay where they are). */
  push(rec: JoinRecord): void {
    const ts = readTsBytes(rec.bytes, rec.start, rec.end);
    this.recs.push({ key: rec.key, offset: rec.offset, bytes: rec.bytes, start: rec.start, end: rec.end });
    // An unreadable click is released at once (the join dead-letters it).
    this.ts.push(ts >= 0 ? ts : -Infinity);
  }

  /** Event time of the oldest held click, or -Infinity when none. */
  peekTs(): number {
    return this.head < this.recs.length ? this.ts[this.head] : -Infinity;
  }

  shift(): JoinRecord {
    const rec = this.recs[this.head++];
    if (this.head === this.recs.length) {
      this.recs.length = 0;
      this.ts.length = 0;
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.recs.length) {
      this.recs = this.recs.slice(this.head);
      this.ts = this.ts.slice(this.head);
      this.head = 0;
    }
    return rec;
  }
}
