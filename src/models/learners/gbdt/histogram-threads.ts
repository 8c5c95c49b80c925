/**
 * Multi-threaded tree growing: for each node's histograms the features are split between the main
 * thread and `threads − 1` worker threads, and for the per-round row update the chunks of rows are
 * (row-update.ts); they share the binned data, gradients, row index, margins and histograms in
 * training's shared memory (histogram-kernel.ts). Splitting features (not rows) means every bin is
 * summed by one thread in row order, and chunk sums are added in chunk order, so the model is
 * bit-identical whatever the thread count. Commands go through shared control words with Atomics
 * (wait/notify), and the main thread blocks while workers finish: small nodes, where waking a
 * worker costs more than it saves, stay on the main thread.
 */
import type { Worker } from 'node:worker_threads';
import { PctrError, startWorker } from '../../../core/index.ts';
import { CTRL, OP_BUILD, OP_MARK, OP_STOP, OP_UPDATE, type HistogramKernels, type HistogramInput } from './histogram.ts';
import { histogramKernels } from './histogram-kernel.ts';
import { chunksOf, markLeaves, updateRows, type RowUpdateInput } from './row-update.ts';

/** What the threads share: the histogram kernels' arrays and the row update's. */
export type GrowInput = HistogramInput & RowUpdateInput;

/** Nodes with fewer rows are built by the main thread alone. */
export const PARALLEL_MIN_NODE_ROWS = 2048;
/** How long a worker may take for one node before the fit fails rather than hangs. */
const WORKER_TIMEOUT_MS = 120_000;

/** A typed array of `length` elements, in a SharedArrayBuffer when worker threads are to read it. */
export function typedArray<T extends Float64Array | Float32Array | Int32Array | Uint8Array>(
  Ctor: { new (buffer: ArrayBuffer | SharedArrayBuffer): T; readonly BYTES_PER_ELEMENT: number },
  length: number,
  shared: boolean,
): T {
  const bytes = length * Ctor.BYTES_PER_ELEMENT;
  return new Ctor(shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
}

export class HistogramThreads {
  private failure: Error | null = null;
  private seq = 0;
  /** Workers given a share by the last dispatch. */
  private dispatched = 0;
  private readonly own: HistogramKernels;

  private constructor(
    private readonly input: GrowInput,
    private readonly workers: Worker[],
    private readonly ctrl: Int32Array,
  ) {
    this.own = histogramKernels(input);
    for (const w of workers) {
      w.on('error', (e) => (this.failure ??= e));
      w.on('exit', () => (this.failure ??= new Error('histogram worker exited')));
    }
  }

  /** Starts `threads − 1` workers over `input`, whose arrays must live in SharedArrayBuffers. */
  static async start(input: GrowInput, threads: number): Promise<HistogramThreads> {
    const ctrl = typedArray(Int32Array, CTRL.STRIDE * Math.max(1, threads - 1), true);
    const workers: Worker[] = [];
    try {
      for (let slot = 0; slot < threads - 1; slot++) {
        const worker = startWorker(new URL('./histogram-worker.ts', import.meta.url), { ...input, ctrl, slot });
        workers.push(worker);
        await new Promise<void>((resolve, reject) => {
          worker.once('message', () => resolve());
          worker.once('error', reject);
          worker.once('exit', (code) => reject(new Error(`exited with code ${code} before it was ready`)));
        });
        worker.removeAllListeners();
      }
    } catch (e) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw new PctrError('PCTR_INTERNAL', `cannot start a histogram worker thread: ${(e as Error).message}`, { cause: e });
    }
    return new HistogramThreads(input, workers, ctrl);
  }

  /** Stable partition of a node's rows (on the main thread; see HistogramKernels.partition). */
  partition(start: number, end: number, feature: number, bin: number, missingLeft: boolean): number {
    return this.own.partition(start, end, feature, bin, missingLeft);
  }

  /** Histograms of every feature for index positions [start, end), into the histogram at `base`. */
  build(base: number, start: number, end: number): void {
    const features = this.input.features.length;
    this.own.gather(start, end);
    if (this.workers.length === 0 || end - start < PARALLEL_MIN_NODE_ROWS) {
      this.own.build(base, start, end, 0, features);
      return;
    }
    // Worker shares are multiples of 4 features (the kernel's unrolling); the main thread takes the rest.
    const from = this.dispatch(OP_BUILD, features, 4, base, start, end);
    this.own.build(base, start, end, from, features);
    this.join();
  }

  /** The row update (row-update.ts) of every chunk of the index's positions, shared by the threads; returns the sums of g and h. */
  update(): { g: number; h: number } {
    const rows = this.input.rows;
    const chunks = chunksOf(rows);
    for (const [op, step] of [[OP_MARK, markLeaves], [OP_UPDATE, updateRows]] as const) {
      const from = this.workers.length === 0 ? 0 : this.dispatch(op, chunks, 1, 0, 0, 0);
      step(this.input, rows, from, chunks);
      this.join();
    }
    const p = this.input.partials;
    let g = 0;
    let h = 0;
    for (let c = 0; c < chunks; c++) {
      g += p[2 * c];
      h += p[2 * c + 1];
    }
    return { g, h };
  }

  /**
   * Gives each worker an equal share (a multiple of `unit`) of `items` (features or chunks) from the
   * front, and returns where the main thread's share starts.
   */
  private dispatch(op: number, items: number, unit: number, base: number, start: number, end: number): number {
    if (this.failure) throw new PctrError('PCTR_INTERNAL', `a histogram worker failed: ${this.failure.message}`, { cause: this.failure });
    const chunk = unit * Math.max(1, Math.floor(items / (this.workers.length + 1) / unit));
    const seq = ++this.seq;
    const ctrl = this.ctrl;
    let w = 0;
    for (; w < this.workers.length && (w + 1) * chunk < items; w++) {
      const at = w * CTRL.STRIDE;
      ctrl[at + CTRL.OP] = op;
      ctrl[at + CTRL.BASE] = base;
      ctrl[at + CTRL.START] = start;
      ctrl[at + CTRL.END] = end;
      ctrl[at + CTRL.FFROM] = w * chunk;
      ctrl[at + CTRL.FTO] = (w + 1) * chunk;
      Atomics.store(ctrl, at + CTRL.SEQ, seq);
      Atomics.notify(ctrl, at + CTRL.SEQ);
    }
    this.dispatched = w;
    return w * chunk;
  }

  /** Waits for the workers of the last dispatch. */
  private join(): void {
    for (let w = 0; w < this.dispatched; w++) this.await(w, this.seq);
    this.dispatched = 0;
  }

  private await(w: number, seq: number): void {
    const at = w * CTRL.STRIDE + CTRL.DONE;
    const deadline = performance.now() + WORKER_TIMEOUT_MS;
    for (;;) {
      const done = Atomics.load(this.ctrl, at);
      if (done === seq) return;
      if (done === -seq) throw new PctrError('PCTR_INTERNAL', `histogram worker ${w} failed while building a node`);
      if (performance.now() > deadline) throw new PctrError('PCTR_TIMEOUT', `histogram worker ${w} did not finish a node within ${WORKER_TIMEOUT_MS / 1000} s`);
      Atomics.wait(this.ctrl, at, done, 1000);
    }
  }

  async close(): Promise<void> {
    for (let w = 0; w < this.workers.length; w++) {
      const at = w * CTRL.STRIDE;
      this.ctrl[at + CTRL.OP] = OP_STOP;
      Atomics.store(this.ctrl, at + CTRL.SEQ, ++this.seq);
      Atomics.notify(this.ctrl, at + CTRL.SEQ);
    }
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
