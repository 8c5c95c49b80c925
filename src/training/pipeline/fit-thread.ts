/**
 * Worker-thread entry of the train step: fits on the snapshot named in workerData and posts back
 * `{ ok, output }` or `{ ok: false, error }` (an ErrorRecord, turned back into a PctrError by the caller).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { toErrorRecord } from '../runners/run-step.ts';
import { fitOnSnapshot, type FitInput } from './fit-snapshot.ts';

const input = (workerData as { input: FitInput }).input;
fitOnSnapshot(input).then(
  (output) => parentPort!.postMessage({ ok: true, output }),
  (err: unknown) => parentPort!.postMessage({ ok: false, error: toErrorRecord(err) }),
);
