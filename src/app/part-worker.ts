/**
 * Entry of a part's worker thread (see parts.ts): opens the part named in workerData, reports
 * `ready`, then its stats every `statsEveryMs`, and on `stop` stops it and reports its final
 * stats. A part that fails on its own reports `failed` and the thread ends; the main thread
 * decides whether to start it again.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { errorMessage } from '../core/index.ts';
import { openPart, type PartName, type PartSettings } from './parts.ts';

export type PartMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'stats'; readonly stats: unknown }
  | { readonly type: 'failed'; readonly message: string }
  | { readonly type: 'stopped'; readonly stats: unknown };

const port = parentPort!;
const { name, settings, statsEveryMs } = workerData as { name: PartName; settings: PartSettings; statsEveryMs: number };
const send = (m: PartMessage) => port.postMessage(m);

try {
  const part = await openPart(name, settings);
  let stopping = false;
  const timer = setInterval(() => send({ type: 'stats', stats: part.stats() }), statsEveryMs);
  port.on('message', (m: { type: string }) => {
    if (m.type !== 'stop' || stopping) return;
    stopping = true;
    clearInterval(timer);
    part.stop().then(
      () => (send({ type: 'stopped', stats: part.stats() }), port.close()),
      (e: unknown) => (send({ type: 'failed', message: errorMessage(e) }), port.close()),
    );
  });
  send({ type: 'ready' });
  part.done.catch(async (e: unknown) => {
    if (stopping) return;
    clearInterval(timer);
    send({ type: 'failed', message: errorMessage(e) });
    await part.stop().catch(() => undefined);
    port.close();
  });
} catch (e) {
  send({ type: 'failed', message: errorMessage(e) });
  port.close();
}
