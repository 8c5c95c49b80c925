/**
 * Entry of a `pctr start --workers` gateway process (node:cluster worker): the same gateway as the
 * embedded system's — buildApp with the ranker and the model holder, which follows the registry's
 * alias by polling the registry file every process can read — on the port all workers share. What
 * the primary owns reaches it over IPC: impressions and clicks go to the primary's event log
 * (IpcEventSink), a memory online store is a replica the primary feeds (replicated-store.ts), event
 * time is the primary's clock. Ctrl-C reaches every process of the terminal's group: the worker
 * ignores it and waits for the primary's drain, so no request in flight is cut off.
 */
import type { FastifyInstance } from 'fastify';
import { createLogger, errorMessage, type Clock, type Logger } from '../core/index.ts';
import { MemoryOnlineStore, createOnlineStore } from '../features/index.ts';
import { createRegistry } from '../registry/index.ts';
import { buildApp, readiness, type GatewayPlugin } from '../serving/index.ts';
import { WORKER_STATS_EVERY_MS, isMessage, type ClockTick, type Drain, type FeatureRows, type FromWorker, type WorkerInit, type WorkerStats } from './cluster-messages.ts';
import { IpcEventSink } from './ipc-sink.ts';
import { registerWorkerMetrics } from './workers-metrics.route.ts';

/** Event time as the primary last told it. */
class MirroredClock implements Clock {
  constructor(public current: number) {}

  now(): number {
    return this.current;
  }
}

/** Sends to the primary; resolves once the message is written (or at once when the channel is gone). */
const send = (m: FromWorker): Promise<void> =>
  new Promise((resolve) => {
    if (!process.connected) return resolve();
    process.send!(m, undefined, {}, () => resolve());
  });

// The primary decides when a worker stops (drain); the terminal's signals are for the primary.
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => undefined);

// One listener from the start: messages that arrive before serve() takes them (the features rows
// right after the init, maybe in the same read) wait in `early` instead of being lost.
let deliver: ((m: unknown) => void) | null = null;
const early: unknown[] = [];
process.on('message', (m: unknown) => (deliver ? deliver(m) : early.push(m)));
const init = await new Promise<WorkerInit>((resolve) => {
  deliver = (m) => {
    if (!isMessage<WorkerInit>(m, 'pctr.init')) return;
    deliver = null;
    resolve(m);
  };
  void send({ type: 'pctr.ready' });
});
const logger = createLogger({ level: init.config.logLevel, name: `gateway-${process.pid}` });
await serve(init, logger).catch((e: unknown) => {
  logger.error({ err: errorMessage(e) }, 'gateway worker failed');
  process.exit(1);
});

async function serve(init: WorkerInit, logger: Logger): Promise<void> {
  const { config } = init;
  const clock = new MirroredClock(init.now);
  const sink = new IpcEventSink({ send: (m) => process.connected && process.send!(m), on: (event, listener) => process.on(event, listener) });
  const store = createOnlineStore(config.features.onlineStore, { readTimeoutMs: config.features.onlineTimeoutMs });
  const replica = store instanceof MemoryOnlineStore;
  // Rows that arrive while the snapshot is applied are applied after it, in order.
  let applying: Promise<unknown> = replica ? store.put(init.snapshot) : Promise.resolve();
  let drained: () => void = () => undefined;
  const drainRequested = new Promise<void>((resolve) => (drained = resolve));
  deliver = (m) => {
    if (isMessage<ClockTick>(m, 'pctr.clock')) clock.current = Math.max(clock.current, m.now);
    else if (isMessage<Drain>(m, 'pctr.drain')) drained();
    else if (replica && isMessage<FeatureRows>(m, 'pctr.features')) {
      const rows = m.rows;
      applying = applying.then(() => store.put(rows)).catch((e: unknown) => logger.error({ err: errorMessage(e) }, 'replica update failed'));
    }
  };
  for (const m of early.splice(0)) deliver(m);
  await applying;
  const registry = await createRegistry({ url: config.registry.url, artifacts: config.registry.artifacts, logger });
  let rankRequests = 0;
  const pid = String(process.pid);
  // Which process answered (`x-pctr-worker: <pid>`), and how many rank requests this one served.
  const counting: GatewayPlugin = (app) => {
    app.addHook('onRequest', (_request, reply, done) => {
      reply.header('x-pctr-worker', pid);
      done();
    });
    app.addHook('onResponse', (request, _reply, done) => {
      if (request.routeOptions.url === '/v1/rank') rankRequests++;
      done();
    });
  };
  let app: FastifyInstance;
  try {
    app = await buildApp({ config, store, events: sink, registry, logger, clock, plugins: [counting] });
    await app.listen({ host: init.host, port: init.port });
  } catch (e) {
    await Promise.allSettled([registry.close(), store.close()]);
    throw e;
  }
  registerWorkerMetrics(app.serving.metrics.registry);
  void send({ type: 'pctr.listening', port: (app.server.address() as { port: number }).port });

  const report = async (final: boolean): Promise<void> => {
    const served = await app.serving.metrics.impressionsServed.get();
    const versions: Record<string, number> = {};
    for (const v of served.values) versions[String(v.labels.model_version)] = v.value;
    const ready = readiness(app.serving);
    const log = app.serving.predictions.stats();
    const stats: WorkerStats = {
      type: 'pctr.worker-stats',
      pid: process.pid,
      rankRequests,
      impressionsLogged: log.appended,
      impressionsDropped: log.dropped,
      versions,
      model: ready.model === 'none' ? `${config.registry.modelName}@prior` : ready.model.version,
      final,
    };
    await send(stats);
  };
  const timer = setInterval(() => void report(false).catch((e: unknown) => logger.warn({ err: errorMessage(e) }, 'stats report failed')), WORKER_STATS_EVERY_MS);

  const drain = async (why: string): Promise<void> => {
    clearInterval(timer);
    logger.info({ why }, 'gateway worker draining');
    // Stops accepting, finishes the requests in flight, flushes the queued impressions to the primary.
    await app.close();
    await report(true);
    sink.abandon('the gateway worker stopped');
    await Promise.allSettled([registry.close(), store.close()]);
  };
  // The primary went away without a drain: nobody is left to append to, stop at once.
  process.once('disconnect', () => {
    sink.abandon('the cluster primary disconnected');
    drained();
  });
  await drainRequested;
  await drain(process.connected ? 'drain' : 'primary disconnected');
  logger.flush();
  process.exit(0);
}
