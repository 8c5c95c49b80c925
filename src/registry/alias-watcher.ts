/**
 * Alias watches for one registry instance. Every watched alias is checked on a timer (and at once
 * when a change feed says it moved): a cheap read of the version the alias points to, and only
 * when that differs from what a subscriber last got, a load of the version and the callback.
 * Checks of one alias never overlap, so a subscriber never gets the same version twice in a row.
 */
import { errorMessage, type Logger } from '../core/index.ts';
import type { ModelVersion, Unsubscribe } from './registry.ts';

export interface WatchSource {
  /** The version an alias points to now, or null when unset. */
  current(name: string, alias: string): Promise<number | null>;
  load(name: string, version: number): Promise<ModelVersion>;
}

interface Subscriber {
  readonly onChange: (v: ModelVersion) => void;
  last: number | null;
}

interface Watched {
  readonly name: string;
  readonly alias: string;
  readonly subs: Set<Subscriber>;
  running: boolean;
  again: boolean;
}

/** Log the first failure of a run, then one in this many (a dead database polled 4×/s would flood the log). */
const LOG_EVERY = 40;

export class AliasWatcher {
  private readonly watched = new Map<string, Watched>();
  private timer: NodeJS.Timeout | null = null;
  private failures = 0;
  private closed = false;

  constructor(
    private readonly source: WatchSource,
    private readonly logger: Logger,
    private intervalMs: number,
  ) {}

  subscribe(name: string, alias: string, onChange: (v: ModelVersion) => void, known: number | null): Unsubscribe {
    const key = `${name}\u0000${alias}`;
    let w = this.watched.get(key);
    if (w === undefined) {
      w = { name, alias, subs: new Set(), running: false, again: false };
      this.watched.set(key, w);
    }
    const sub: Subscriber = { onChange, last: known };
    w.subs.add(sub);
    this.startTimer();
    void this.check(w);
    const watched = w;
    return () => {
      watched.subs.delete(sub);
      if (watched.subs.size === 0 && this.watched.get(key) === watched) this.watched.delete(key);
      if (this.watched.size === 0) this.stopTimer();
    };
  }

  /** Check one alias now (a change feed saw it move). */
  poke(name: string, alias: string): void {
    const w = this.watched.get(`${name}\u0000${alias}`);
    if (w !== undefined) void this.check(w);
  }

  /** Check every alias now (after a change feed reconnects, moves may have been missed). */
  pokeAll(): void {
    for (const w of this.watched.values()) void this.check(w);
  }

  setPollInterval(ms: number): void {
    if (ms === this.intervalMs) return;
    this.intervalMs = ms;
    if (this.timer !== null) {
      this.stopTimer();
      this.startTimer();
    }
  }

  close(): void {
    this.closed = true;
    this.watched.clear();
    this.stopTimer();
  }

  private startTimer(): void {
    if (this.timer !== null) return;
    // Not unref'd: a live watch keeps its process running until unsubscribed or closed.
    this.timer = setInterval(() => this.pokeAll(), this.intervalMs);
  }

  private stopTimer(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private async check(w: Watched): Promise<void> {
    if (w.running) {
      w.again = true;
      return;
    }
    w.running = true;
    try {
      do {
        w.again = false;
        const version = await this.source.current(w.name, w.alias);
        if (version === null || ![...w.subs].some((s) => s.last !== version)) continue;
        const mv = await this.source.load(w.name, version);
        for (const s of w.subs) {
          if (s.last === version || this.closed) continue;
          s.last = version;
          this.deliver(s, mv);
        }
      } while (w.again);
      if (this.failures > 0) this.logger.info({ failures: this.failures }, 'registry watch recovered');
      this.failures = 0;
    } catch (e) {
      // A check still running when the registry closes fails on the closed connection: expected.
      if (this.closed) return;
      this.failures++;
      if (this.failures % LOG_EVERY === 1) {
        this.logger.warn({ err: errorMessage(e), name: w.name, alias: w.alias, failures: this.failures }, 'registry watch check failed; retrying');
      }
    } finally {
      w.running = false;
    }
  }

  private deliver(s: Subscriber, v: ModelVersion): void {
    const report = (e: unknown) =>
      this.logger.error({ err: errorMessage(e), name: v.name, version: v.version }, 'registry watch callback failed');
    try {
      const r = s.onChange(v) as unknown;
      if (r instanceof Promise) r.catch(report);
    } catch (e) {
      report(e);
    }
  }
}
