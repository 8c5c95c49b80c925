/**
 * Worker thread of HistogramThreads: waits on the shared control words for a command, builds its
 * share of the features' histograms (or updates its share of the rows) in shared memory, and
 * signals completion. Atomics rather
 * than messages, because a node's build takes well under a millisecond and a message round trip
 * costs about as much.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { CTRL, OP_BUILD, OP_MARK, OP_STOP, OP_UPDATE } from './histogram.ts';
import { histogramKernels } from './histogram-kernel.ts';
import type { GrowInput } from './histogram-threads.ts';
import { markLeaves, updateRows } from './row-update.ts';

const data = workerData as GrowInput & { ctrl: Int32Array; slot: number };
const { ctrl, slot } = data;
const at = slot * CTRL.STRIDE;
const build = histogramKernels(data).build;
let seen = 0;
parentPort!.postMessage('ready');
for (;;) {
  Atomics.wait(ctrl, at + CTRL.SEQ, seen);
  seen = Atomics.load(ctrl, at + CTRL.SEQ);
  const op = ctrl[at + CTRL.OP];
  if (op === OP_STOP) break;
  try {
    if (op === OP_BUILD) build(ctrl[at + CTRL.BASE], ctrl[at + CTRL.START], ctrl[at + CTRL.END], ctrl[at + CTRL.FFROM], ctrl[at + CTRL.FTO]);
    else if (op === OP_MARK) markLeaves(data, data.rows, ctrl[at + CTRL.FFROM], ctrl[at + CTRL.FTO]);
    else if (op === OP_UPDATE) updateRows(data, data.rows, ctrl[at + CTRL.FFROM], ctrl[at + CTRL.FTO]);
    else throw new Error(`unknown histogram command ${op}`);
    Atomics.store(ctrl, at + CTRL.DONE, seen);
  } catch {
    Atomics.store(ctrl, at + CTRL.DONE, -seen);
  }
  Atomics.notify(ctrl, at + CTRL.DONE);
}
