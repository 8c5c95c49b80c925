/**
 * Event time. Production uses the wall clock; the simulator runs a simulated clock that moves
 * faster than real time (or is stepped by hand in tests), and every part that needs "now" in event
 * time takes a Clock rather than calling Date.now().
 */
export interface Clock {
  /** Current event time, epoch milliseconds. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/**
 * Simulated time: `start + (wall elapsed) × speed`, or stepped manually when speed is 0.
 * `speed: 60` runs an hour of market per real minute.
 */
export class SimulatedClock implements Clock {
  private base: number;
  private wallBase: number;
  private speed: number;

  constructor(opts: { start: number; speed: number; wallNow?: () => number }) {
    this.base = opts.start;
    this.speed = opts.speed;
    this.wallNow = opts.wallNow ?? (() => performance.now());
    this.wallBase = this.wallNow();
  }

  private readonly wallNow: () => number;

  now(): number {
    if (this.speed === 0) return this.base;
    return Math.floor(this.base + (this.wallNow() - this.wallBase) * this.speed);
  }

  /** Move a manual clock (speed 0) forward, or jump a running one. */
  advance(ms: number): void {
    this.base = this.now() + ms;
    this.wallBase = this.wallNow();
  }

  setSpeed(speed: number): void {
    this.base = this.now();
    this.wallBase = this.wallNow();
    this.speed = speed;
  }

  /** Wall-clock milliseconds until the simulated clock reaches `ts` (0 if already past). */
  wallDelayUntil(ts: number): number {
    const ahead = ts - this.now();
    if (ahead <= 0) return 0;
    return this.speed === 0 ? Infinity : ahead / this.speed;
  }
}
