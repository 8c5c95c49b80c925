/**
 * Timing helpers shared by benchmarks. Besides wall time they take CPU time of this process,
 * because the machine is shared: CPU seconds say what one core does, whatever else is running.
 */
import { median } from './report.ts';

export interface Timing {
  readonly wall: number;
  readonly cpu: number;
}

/** Wall and CPU seconds of one run of `fn`. */
export async function measure(fn: () => unknown): Promise<Timing> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const c = process.cpuUsage(c0);
  return { wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
}

/** Median wall and CPU seconds over `repeats` runs, each prepared by `setup` outside the timing. */
export async function measureMedian<T>(repeats: number, setup: () => T | Promise<T>, fn: (x: T) => unknown): Promise<Timing> {
  const runs: Timing[] = [];
  for (let i = 0; i < repeats; i++) {
    const x = await setup();
    runs.push(await measure(() => fn(x)));
  }
  return { wall: median(runs.map((r) => r.wall)), cpu: median(runs.map((r) => r.cpu)) };
}
