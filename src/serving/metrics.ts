/**
 * The gateway's Prometheus metrics, on a registry the app owns (not prom-client's global one), so
 * several apps in one process (tests, `pctr start`) never share or clash over counters.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface ServingMetrics {
  readonly registry: Registry;
  readonly httpDuration: Histogram<'route' | 'method' | 'status'>;
  readonly rankDuration: Histogram;
  readonly candidatesScored: Counter;
  readonly impressionsServed: Counter<'model_version'>;
  readonly featureReads: Counter;
  readonly featureMisses: Counter;
  readonly featureFailures: Counter<'reason'>;
  readonly degraded: Gauge;
  readonly modelLoads: Counter<'alias' | 'result'>;
  readonly modelInfo: Gauge<'alias' | 'version' | 'kind'>;
  readonly eventsAccepted: Counter<'type'>;
  readonly eventsRejected: Counter;
  readonly logQueued: Gauge<'topic'>;
  readonly logAppended: Counter<'topic'>;
  readonly logDropped: Counter<'topic'>;
  readonly logFailures: Counter<'topic'>;
}

/** Latency buckets (seconds) fine enough to see a 5 ms p99 budget. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.02, 0.05, 0.1, 0.25, 1];

export function createServingMetrics(opts: { defaultMetrics?: boolean } = {}): ServingMetrics {
  const registry = new Registry();
  const registers = [registry];
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'pctr_' });
  return {
    registry,
    httpDuration: new Histogram({
      name: 'pctr_http_request_duration_seconds',
      help: 'HTTP request latency by route pattern, method and status',
      labelNames: ['route', 'method', 'status'],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    rankDuration: new Histogram({ name: 'pctr_rank_duration_seconds', help: 'Time of rank() alone (features, scoring, rules, logging enqueue)', buckets: LATENCY_BUCKETS, registers }),
    candidatesScored: new Counter({ name: 'pctr_candidates_scored_total', help: 'Candidates scored by the served model', registers }),
    impressionsServed: new Counter({ name: 'pctr_impressions_served_total', help: 'Ads served, by the model version that scored them', labelNames: ['model_version'], registers }),
    featureReads: new Counter({ name: 'pctr_feature_store_reads_total', help: 'Online store reads (one per rank request)', registers }),
    featureMisses: new Counter({ name: 'pctr_feature_store_misses_total', help: 'Entities the online store did not know (served with the prior)', registers }),
    featureFailures: new Counter({ name: 'pctr_feature_store_failures_total', help: 'Online store reads that failed or timed out (served with default features)', labelNames: ['reason'], registers }),
    degraded: new Gauge({ name: 'pctr_serving_degraded', help: '1 while the online store is failing and requests are served with default features', registers }),
    modelLoads: new Counter({ name: 'pctr_model_loads_total', help: 'Model loads by alias and result (success, failure)', labelNames: ['alias', 'result'], registers }),
    modelInfo: new Gauge({ name: 'pctr_model_info', help: 'The model version served per alias (value 1)', labelNames: ['alias', 'version', 'kind'], registers }),
    eventsAccepted: new Counter({ name: 'pctr_events_accepted_total', help: 'Client events appended to the log, by type', labelNames: ['type'], registers }),
    eventsRejected: new Counter({ name: 'pctr_events_rejected_total', help: 'Client events rejected as invalid', registers }),
    logQueued: new Gauge({ name: 'pctr_event_log_queued', help: 'Records waiting in the async prediction logger', labelNames: ['topic'], registers }),
    logAppended: new Counter({ name: 'pctr_event_log_appended_total', help: 'Records the prediction logger appended', labelNames: ['topic'], registers }),
    logDropped: new Counter({ name: 'pctr_event_log_dropped_total', help: 'Records dropped because the logger queue was full', labelNames: ['topic'], registers }),
    logFailures: new Counter({ name: 'pctr_event_log_append_failures_total', help: 'Failed append attempts of the prediction logger (retried)', labelNames: ['topic'], registers }),
  };
}
