/**
 * A racing registry client for the contract suite: one worker thread = one connection, as another
 * process would have. All workers of a round meet at a shared-memory barrier, then act at once.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createRegistry } from '../../src/registry/index.ts';
import { isPctrError, silentLogger } from '../../src/core/index.ts';

export type RaceOp =
  | { readonly op: 'register'; readonly name: string; readonly count: number; readonly idempotencyKey?: string }
  | { readonly op: 'setAlias'; readonly name: string; readonly alias: string; readonly version: number; readonly expectedVersion: number | null };

export interface RaceRequest {
  readonly id: number;
  readonly round: number;
  readonly task: RaceOp;
}

export type RaceReply = { readonly id: number; readonly ok: true; readonly result: unknown } | { readonly id: number; readonly ok: false; readonly code: string; readonly message: string };

const { url, artifacts, barrier, parties } = workerData as { url: string; artifacts: string; barrier: SharedArrayBuffer; parties: number };
const arrived = new Int32Array(barrier);
const registry = await createRegistry({ url, artifacts, logger: silentLogger });

function meet(round: number): void {
  if (Atomics.add(arrived, round, 1) + 1 === parties) {
    Atomics.notify(arrived, round);
    return;
  }
  while (Atomics.load(arrived, round) < parties) Atomics.wait(arrived, round, Atomics.load(arrived, round), 5_000);
}

async function run(task: RaceOp, worker: number): Promise<unknown> {
  if (task.op === 'register') {
    // A retried step brings the same bytes; distinct registrations bring distinct ones.
    const bytes = (i: number) => new TextEncoder().encode(task.idempotencyKey ?? `worker ${worker} artifact ${i}`);
    const meta = { kind: 'ftrl', params: { worker }, metrics: { auc: 0.7 }, idempotencyKey: task.idempotencyKey };
    const versions = await Promise.all(Array.from({ length: task.count }, (_, i) => registry.register(task.name, bytes(i), meta)));
    return versions.map((v) => v.version);
  }
  const event = await registry.setAlias(task.name, task.alias, task.version, { expectedVersion: task.expectedVersion, reason: `worker ${worker}` });
  return event.toVersion;
}

parentPort!.on('message', async (msg: RaceRequest | 'close') => {
  if (msg === 'close') {
    await registry.close();
    parentPort!.close();
    return;
  }
  meet(msg.round);
  let reply: RaceReply;
  try {
    reply = { id: msg.id, ok: true, result: await run(msg.task, (workerData as { index: number }).index) };
  } catch (e) {
    reply = { id: msg.id, ok: false, code: isPctrError(e) ? e.code : 'UNEXPECTED', message: (e as Error).message };
  }
  parentPort!.postMessage(reply);
});
parentPort!.postMessage('ready');
