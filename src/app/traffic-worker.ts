/**
 * Entry of the simulator's traffic thread: a TrafficDriver over the gateway's HTTP port, reporting
 * its stats and the served-vs-oracle window every `reportEveryMs`, and once more when it is done
 * (its impressions reached, or `stop` received).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { errorMessage } from '../core/index.ts';
import { AdMarket, TrafficDriver } from '../sim/index.ts';
import { clockOf } from './sim-clock.ts';
import type { TrafficMessage, TrafficSettings } from './sim-traffic.ts';

const port = parentPort!;
const s = workerData as TrafficSettings;
const send = (m: TrafficMessage) => port.postMessage(m);
const stop = new AbortController();
port.on('message', (m: { type: string }) => {
  if (m.type === 'stop') stop.abort();
});

try {
  const clock = clockOf(s.clock);
  const driver = new TrafficDriver({
    baseUrl: s.baseUrl,
    apiKey: s.apiKey,
    market: new AdMarket(s.market),
    clock,
    pacing: s.clock.kind === 'manual' ? 'max' : 'clock',
    requestRate: s.requestRate,
    k: s.k,
    concurrency: s.concurrency,
    impressions: s.impressions,
    window: s.window,
    signal: stop.signal,
  });
  const report = (type: 'progress' | 'done') => send({ type, stats: driver.stats(), window: driver.metrics(), recent: driver.metrics(s.recent), simTs: clock.now() });
  const timer = setInterval(() => report('progress'), s.reportEveryMs);
  await driver.run();
  clearInterval(timer);
  report('done');
} catch (e) {
  send({ type: 'failed', message: errorMessage(e) });
}
port.close();
