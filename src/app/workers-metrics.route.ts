/**
 * `GET /metrics/workers` on the primary of `pctr start --workers`: the gateway workers' Prometheus
 * metrics summed over the workers (prom-client's cluster aggregation, one IPC request per worker),
 * so one scrape sees the whole cluster's serving — a scrape of `/metrics` on the shared port sees
 * whichever worker took the connection. `registerWorkerMetrics` is the worker's side.
 */
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { GatewayPlugin } from '../serving/index.ts';

export function workersMetricsRoute(): GatewayPlugin {
  const aggregator = new AggregatorRegistry();
  return (app) => {
    app.get(
      '/metrics/workers',
      {
        config: { rateLimit: false },
        schema: { summary: 'Prometheus metrics of every gateway worker, summed', tags: ['ops'], produces: ['text/plain'], response: { 200: { type: 'string' } } },
      },
      async (_request, reply) => {
        reply.header('content-type', aggregator.contentType);
        return aggregator.clusterMetrics();
      },
    );
  };
}

/** In a worker: answer the primary's metrics requests with this registry. */
export function registerWorkerMetrics(registry: Registry): void {
  // Constructing one installs prom-client's worker-side listener.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry]);
}
