/**
 * Clicks that arrived before their impression. With bounded out-of-orderness the impression can
 * still come until the watermark passes the click's own time (the impression is never later than its
 * click); after that the click is unknown. Rare (the worker reads clicks no further ahead than the
 * impressions), so plain objects are fine here.
 */

export interface EarlyClick {
  readonly key: string;
  readonly ts: number;
}

interface Entry extends EarlyClick {
  taken: boolean;
}

export class EarlyClicks {
  /** Sorted by ts; entries before `front` are gone. */
  private entries: Entry[] = [];
  private front = 0;
  private readonly byKey = new Map<string, Entry[]>();
  private live = 0;

  get size(): number {
    return this.live;
  }

  add(key: string, ts: number): void {
    const e: Entry = { key, ts, taken: false };
    let i = this.entries.length;
    while (i > this.front && this.entries[i - 1].ts > ts) i--;
    if (i === this.entries.length) this.entries.push(e);
    else this.entries.splice(i, 0, e);
    const list = this.byKey.get(key);
    if (list) list.push(e);
    else this.byKey.set(key, [e]);
    this.live++;
  }

  /** Remove and return (in arrival order) the clicks for `key` that have not expired at `watermark`. */
  take(key: string, watermark: number): EarlyClick[] | undefined {
    const list = this.byKey.get(key);
    if (!list) return undefined;
    const out: EarlyClick[] = [];
    const keep: Entry[] = [];
    for (const e of list) {
      if (e.ts < watermark) keep.push(e);
      else {
        e.taken = true;
        this.live--;
        out.push(e);
      }
    }
    if (keep.length) this.byKey.set(key, keep);
    else this.byKey.delete(key);
    return out.length ? out : undefined;
  }

  /** Remove the clicks older than `watermark`, calling `onUnknown` for each, oldest first. */
  expire(watermark: number, onUnknown: (key: string, ts: number) => void): void {
    const entries = this.entries;
    while (this.front < entries.length && entries[this.front].ts < watermark) {
      const e = entries[this.front++];
      if (e.taken) continue;
      this.live--;
      const list = this.byKey.get(e.key) as Entry[];
      if (list.length === 1) this.byKey.delete(e.key);
      else list.splice(list.indexOf(e), 1);
      onUnknown(e.key, e.ts);
    }
    if (this.front > 1024 && this.front * 2 > entries.length) {
      this.entries = entries.slice(this.front);
      this.front = 0;
    }
  }

  /** The buffered clicks, oldest first (for the checkpoint). */
  list(): EarlyClick[] {
    const out: EarlyClick[] = [];
    for (let i = this.front; i < this.entries.length; i++) {
      const e = this.entries[i];
      if (!e.taken) out.push({ key: e.key, ts: e.ts });
    }
    return out;
  }
}
