/** Runs `fitOnSnapshot` in a worker thread (or in this thread), cancellable by an abort signal. */
import { PctrError, startWorker } from '../../core/index.ts';
import type { ErrorRecord } from '../run-store/run-store.ts';
import { fromErrorRecord } from '../runners/run-step.ts';
import { fitOnSnapshot, type FitInput, type FitOutput } from './fit-snapshot.ts';

type Reply = { ok: true; output: FitOutput } | { ok: false; error: ErrorRecord };

export function fitInThread(input: FitInput, signal: AbortSignal): Promise<FitOutput> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const worker = startWorker(new URL('./fit-thread.ts', import.meta.url), { input });
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      fn();
    };
    const onAbort = () => {
      void worker.terminate();
      settle(() => reject(signal.reason));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    worker.once('message', (reply: Reply) => settle(() => (reply.ok ? resolve(reply.output) : reject(fromErrorRecord(reply.error)))));
    worker.once('error', (e) => settle(() => reject(new PctrError('PCTR_INTERNAL', `training thread crashed: ${e.message}`, { cause: e }))));
    worker.once('exit', (code) => settle(() => reject(new PctrError('PCTR_INTERNAL', `training thread exited with code ${code} before reporting`))));
  });
}

export function fit(input: FitInput, opts: { inThread: boolean; signal: AbortSignal }): Promise<FitOutput> {
  return opts.inThread ? fitInThread(input, opts.signal) : fitOnSnapshot(input);
}
