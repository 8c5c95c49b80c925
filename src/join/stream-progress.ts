/**
 * Which input streams (impressions = 0, clicks = 1) of which partitions are idle: read to their end
 * and silent for `idleTimeoutMs` of wall time. An idle stream stops holding back its partition's
 * watermark. "Read to the end" comes from the log's end offsets, refreshed a few times per idle
 * timeout, or from an empty poll (nothing anywhere).
 */
export type Stream = 0 | 1;

export class StreamProgress {
  private readonly since: [Float64Array, Float64Array];
  private readonly refreshEveryMs: number;
  private lastRefresh = -Infinity;

  constructor(
    private readonly partitions: readonly number[],
    private readonly idleTimeoutMs: number,
  ) {
    const size = Math.max(0, ...partitions) + 1;
    this.since = [new Float64Array(size).fill(NaN), new Float64Array(size).fill(NaN)];
    this.refreshEveryMs = Math.min(500, Math.max(20, idleTimeoutMs / 4));
  }

  /** New records arrived: the stream is not idle. */
  received(stream: Stream, partition: number): void {
    this.since[stream][partition] = NaN;
  }

  /** What the end offsets say: read to the end or not, as of wall time `t`. */
  ends(stream: Stream, partition: number, caughtUp: boolean, t: number): void {
    const since = this.since[stream];
    if (!caughtUp) since[partition] = NaN;
    else if (Number.isNaN(since[partition])) since[partition] = t;
  }

  /** An empty poll: every stream is read to its end. */
  allCaughtUp(t: number): void {
    for (const p of this.partitions) {
      this.ends(0, p, true, t);
      this.ends(1, p, true, t);
    }
  }

  /** Read to its end (as of the last look), however briefly. */
  caughtUp(stream: Stream, partition: number): boolean {
    const since = this.since[stream][partition];
    return since === since;
  }

  idle(stream: Stream, partition: number, t: number): boolean {
    const since = this.since[stream][partition];
    return since === since && t - since >= this.idleTimeoutMs;
  }

  /** Whether to ask the log for end offsets again (and note that we do). */
  refreshDue(t: number): boolean {
    if (t - this.lastRefresh < this.refreshEveryMs) return false;
    this.lastRefresh = t;
    return true;
  }
}
