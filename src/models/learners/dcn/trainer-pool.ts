/**
 * Data-parallel mini-batch steps over worker threads. The model's arena (dense parameters,
 * activations, the batch's tokens) and its embedding table live in shared memory; for each
 * mini-batch the main thread publishes the row count and bumps a generation counter, every thread
 * (main included) computes the gradient of its slice of rows, and the main thread waits until all
 * are done, then sums the slices' gradients in thread order (so a seed gives one model) and steps
 * the optimizer. Synchronisation is Atomics.wait/notify on a small Int32Array: no messages and no
 * copies per step.
 */
import type { Worker } from 'node:worker_threads';
import { errorMessage, PctrError, startWorker } from '../../../core/index.ts';
import type { DcnShape } from './layout.ts';

/** Control words. */
export const GEN = 0;
export const DONE = 1;
export const COMMAND = 2;
export const ROWS = 3;
export const BATCH = 4;
export const FAILED = 5;
export const CONTROL_WORDS = 8;
export const STEP = 1;
export const STOP = 2;

/** What a worker needs to attach to a model's memory. */
export interface WorkerInit {
  readonly memory: WebAssembly.Memory;
  /** Floats per embedding row (the table follows the layout's floats in the memory). */
  readonly stride: number;
  readonly control: SharedArrayBuffer;
  readonly shape: DcnShape;
  readonly threads: number;
  readonly batchSize: number;
  readonly thread: number;
  readonly backend: string;
}

/** A step slower than this means a worker died; the main thread stops waiting and fails the fit. */
const STEP_TIMEOUT_MS = 120_000;

export class TrainerPool {
  private readonly control: Int32Array;
  private readonly workers: Worker[] = [];
  private failure: string | null = null;

  private constructor(control: SharedArrayBuffer) {
    this.control = new Int32Array(control);
  }

  /** Starts threads − 1 workers (the main thread is thread 0) and waits until each has attached. */
  static async start(init: Omit<WorkerInit, 'thread' | 'control'>): Promise<TrainerPool> {
    const pool = new TrainerPool(new SharedArrayBuffer(4 * CONTROL_WORDS));
    const ready: Promise<void>[] = [];
    for (let t = 1; t < init.threads; t++) {
      const w = startWorker(new URL('./dcn-worker.ts', import.meta.url), { ...init, thread: t, control: pool.control.buffer });
      pool.workers.push(w);
      w.on('error', (e) => (pool.failure ??= `DCN training thread ${t} failed: ${errorMessage(e)}`));
      w.on('message', (m: { error?: string }) => {
        if (typeof m === 'object' && m.error) pool.failure ??= `DCN training thread ${t} failed: ${m.error}`;
      });
      ready.push(
        new Promise((resolve, reject) => {
          w.once('message', () => resolve());
          w.once('error', reject);
          w.once('exit', (code) => reject(new PctrError('PCTR_INTERNAL', `DCN training thread ${t} exited (code ${code}) before it started`)));
        }),
      );
    }
    try {
      await Promise.all(ready);
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  /** Runs `own` (thread 0's slice) while the workers compute theirs; returns when all are done. */
  step(rows: number, batchRows: number, own: () => void): void {
    const c = this.control;
    if (this.failure !== null) throw new PctrError('PCTR_INTERNAL', this.failure);
    Atomics.store(c, DONE, 0);
    Atomics.store(c, COMMAND, STEP);
    Atomics.store(c, ROWS, rows);
    Atomics.store(c, BATCH, batchRows);
    Atomics.add(c, GEN, 1);
    Atomics.notify(c, GEN);
    own();
    const others = this.workers.length;
    for (let done = Atomics.load(c, DONE); done < others; done = Atomics.load(c, DONE)) {
      if (Atomics.wait(c, DONE, done, STEP_TIMEOUT_MS) === 'timed-out') {
        throw new PctrError('PCTR_TIMEOUT', `a DCN training thread did not finish its slice within ${STEP_TIMEOUT_MS / 1000} s${this.failure ? `: ${this.failure}` : ''}`);
      }
    }
    if (Atomics.load(c, FAILED) !== 0) throw new PctrError('PCTR_INTERNAL', `a DCN training thread failed while computing its slice${this.failure ? `: ${this.failure}` : ''}`);
  }

  async close(): Promise<void> {
    const c = this.control;
    Atomics.store(c, COMMAND, STOP);
    Atomics.add(c, GEN, 1);
    Atomics.notify(c, GEN);
    await Promise.all(this.workers.map((w) => new Promise<void>((resolve) => (w.threadId === -1 ? resolve() : w.once('exit', () => resolve())))));
    this.workers.length = 0;
  }
}
