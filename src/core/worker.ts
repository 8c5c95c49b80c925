import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Start a worker thread running a TypeScript (or JS) module. The worker's own `workerData` is
 * available as usual; the entry URL travels beside it.
 */
export function startWorker(entry: URL, workerData: Record<string, unknown> = {}, opts: WorkerOptions = {}): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, { ...opts, workerData });
  return new Worker(new URL('./worker-boot.mjs', import.meta.url), {
    ...opts,
    workerData: { ...workerData, __pctrEntry: entry.href },
  });
}
