/**
 * A pool of worker threads, each with its own registry connection, for the contract's
 * concurrency tests: `all(task)` makes every worker perform a task at the same instant.
 */
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../../src/core/index.ts';
import type { RaceOp, RaceReply, RaceRequest } from './registry-race.worker.ts';

const MAX_ROUNDS = 256;

export class RacePool {
  private round = 0;
  private nextId = 0;
  private readonly pending = new Map<number, (r: RaceReply) => void>();

  private constructor(private readonly workers: Worker[]) {
    for (const w of workers) w.on('message', (m: RaceReply | 'ready') => m !== 'ready' && this.pending.get(m.id)?.(m));
  }

  static async start(size: number, store: { url: string; artifacts: string }): Promise<RacePool> {
    const barrier = new SharedArrayBuffer(4 * MAX_ROUNDS);
    const workers = Array.from({ length: size }, (_, index) =>
      startWorker(new URL('./registry-race.worker.ts', import.meta.url), { ...store, barrier, parties: size, index }),
    );
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            w.once('error', reject);
            w.on('message', (m) => m === 'ready' && resolve());
          }),
      ),
    );
    return new RacePool(workers);
  }

  get size(): number {
    return this.workers.length;
  }

  /** Every worker performs its task (`task(i)` for worker i) at once; replies in worker order. */
  all(task: (worker: number) => RaceOp): Promise<RaceReply[]> {
    const round = this.round++;
    if (round >= MAX_ROUNDS) throw new Error('RacePool: too many rounds');
    return Promise.all(
      this.workers.map((w, i) => {
        const id = this.nextId++;
        const request: RaceRequest = { id, round, task: task(i) };
        return new Promise<RaceReply>((resolve) => {
          this.pending.set(id, resolve);
          w.postMessage(request);
        });
      }),
    );
  }

  async close(): Promise<void> {
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            w.once('exit', () => resolve());
            w.postMessage('close');
          }),
      ),
    );
  }
}
