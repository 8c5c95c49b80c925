/**
 * Time from impression to click: a heavy-tailed mixture. Most clicks come from a lognormal
 * (median ~40 s, so most within a minute or two); a tail spreads log-uniformly up to the end of the
 * attribution window (clicks that arrive just in time); a small share lands after the window,
 * which the join must count as late rather than silently drop.
 */
import type { DelayOptions } from './options.ts';
import type { Rng } from './rng.ts';

const TAIL_START_MS = 120_000;

export class ClickDelay {
  private readonly mu: number;
  private readonly sigma: number;
  private readonly tailAt: number;
  private readonly lateAt: number;
  private readonly windowMs: number;
  private readonly tailLo: number;
  private readonly tailSpan: number;

  constructor(opts: DelayOptions, windowMs: number) {
    if (opts.tailShare + opts.lateShare > 1) {
      throw new RangeError(`delay.tailShare (${opts.tailShare}) + delay.lateShare (${opts.lateShare}) must be ≤ 1`);
    }
    this.mu = Math.log(opts.medianMs);
    this.sigma = opts.sigma;
    this.windowMs = windowMs;
    this.lateAt = opts.lateShare;
    this.tailAt = opts.lateShare + opts.tailShare;
    const lo = Math.min(TAIL_START_MS, windowMs / 2);
    this.tailLo = Math.log(lo);
    this.tailSpan = Math.log(windowMs) - this.tailLo;
  }

  /** A delay in whole milliseconds, ≥ 1. */
  sample(rng: Rng): number {
    const u = rng.next();
    let d: number;
    if (u < this.lateAt) {
      // Strictly after the window (never exactly on its edge, where `<` and `≤` would disagree),
      // with an exponential tail of mean half a window.
      d = this.windowMs * (1 + rng.exponential(0.5)) + 1;
    } else if (u < this.tailAt) {
      d = Math.exp(this.tailLo + rng.next() * this.tailSpan);
    } else {
      d = Math.exp(this.mu + this.sigma * rng.normal());
    }
    if (u >= this.lateAt && d >= this.windowMs) d = this.windowMs - 1;
    return Math.max(1, Math.round(d));
  }

  /** Whether a click after `delayMs` misses the attribution window. */
  isLate(delayMs: number): boolean {
    return delayMs > this.windowMs;
  }
}
