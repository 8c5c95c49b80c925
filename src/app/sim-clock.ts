/**
 * The event clock of `pctr start --sim`, the same in the main thread (gateway, pipeline trigger,
 * monitor) and in the traffic thread. Driven "as fast as the gateway answers", it is a manual clock
 * in shared memory that only the traffic driver advances; paced, it is a simulated clock N× faster
 * than the wall from a common anchor, which each thread computes for itself.
 */
import { SimulatedClock, type Clock } from '../core/index.ts';

export type SimClockSpec =
  | { readonly kind: 'manual'; readonly buffer: SharedArrayBuffer }
  | { readonly kind: 'paced'; readonly start: number; readonly speed: number; readonly anchorWallMs: number };

/** A manual clock whose time lives in a SharedArrayBuffer: every thread reads the latest advance. */
export class SharedManualClock implements Clock {
  private readonly cell: BigInt64Array;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.cell = new BigInt64Array(buffer, 0, 1);
  }

  static create(start: number): SharedManualClock {
    const c = new SharedManualClock(new SharedArrayBuffer(8));
    Atomics.store(c.cell, 0, BigInt(Math.floor(start)));
    return c;
  }

  now(): number {
    return Number(Atomics.load(this.cell, 0));
  }

  /** Moves the clock forward (only the traffic driver does). */
  advance(ms: number): void {
    Atomics.add(this.cell, 0, BigInt(Math.max(0, Math.floor(ms))));
  }
}

/** A clock spec that starts now: manual at `start`, or paced at `speed`× from `start`. */
export function simClockSpec(start: number, speed: number | 'max'): SimClockSpec {
  if (speed === 'max') return { kind: 'manual', buffer: SharedManualClock.create(start).buffer };
  return { kind: 'paced', start, speed, anchorWallMs: Date.now() };
}

export function clockOf(spec: SimClockSpec): SharedManualClock | SimulatedClock {
  if (spec.kind === 'manual') return new SharedManualClock(spec.buffer);
  const wall = Date.now();
  return new SimulatedClock({ start: spec.start + (wall - spec.anchorWallMs) * spec.speed, speed: spec.speed, wallNow: () => Date.now() });
}

/** A clock that reads another one, which can be replaced once it is known (event time resumed from the log). */
export class ClockRef implements Clock {
  constructor(public target: Clock) {}

  now(): number {
    return this.target.now();
  }
}
