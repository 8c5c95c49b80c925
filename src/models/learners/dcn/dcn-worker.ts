/**
 * A DCN training thread: attaches to the model's shared arena and embedding table, then for each
 * generation bump computes the gradient of its slice of the mini-batch (see trainer-pool.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Arena, type GemmBackend } from '../../kernels/index.ts';
import { DcnLayout } from './layout.ts';
import { DcnNetwork } from './network.ts';
import { BATCH, COMMAND, DONE, FAILED, GEN, ROWS, STOP, type WorkerInit } from './trainer-pool.ts';

const init = workerData as WorkerInit;
const arena = new Arena(init.memory, init.backend as GemmBackend);
const layout = new DcnLayout(init.shape, init.threads, init.batchSize);
const net = new DcnNetwork(arena, layout, layout.floats, init.stride);
const c = new Int32Array(init.control);
const t = init.thread;

// Read the generation before saying ready: the first step may bump it as soon as we have.
let seen = Atomics.load(c, GEN);
parentPort!.postMessage('ready');
for (;;) {
  Atomics.wait(c, GEN, seen);
  seen = Atomics.load(c, GEN);
  if (Atomics.load(c, COMMAND) === STOP) break;
  try {
    const [start, end] = layout.slice(t, Atomics.load(c, ROWS));
    if (end > start) {
      net.forward(t, start, end);
      net.backward(t, start, end, Atomics.load(c, BATCH));
    }
  } catch (e) {
    Atomics.store(c, FAILED, 1);
    parentPort!.postMessage({ error: (e as Error).message });
  }
  Atomics.add(c, DONE, 1);
  Atomics.notify(c, DONE);
}
