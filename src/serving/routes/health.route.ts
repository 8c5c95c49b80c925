/**
 * Liveness, readiness and metrics, public (no key, no rate limit). `/healthz` says the process
 * answers; `/readyz` says what it serves with — the champion (or `none`: the prior stands in), the
 * challenger, the online store (`degraded` while reads fail and defaults are served), model load
 * failures and the prediction log — and is 200 whenever requests can be answered, degraded or not;
 * `/metrics` is the Prometheus text of the app's own registry.
 */
import type { FastifyInstance } from 'fastify';
import type { FeatureReader } from '../feature-reader.ts';
import type { ServingMetrics } from '../metrics.ts';
import type { ModelHolder } from '../model-holder.ts';
import type { PredictionLogger } from '../prediction-logger.ts';
import { HealthResponse, ReadyResponse, jsonSchema, type ReadyResponse as Ready } from '../schemas.ts';
import type { ServedModel } from '../served-model.ts';

export interface HealthDeps {
  readonly holder: ModelHolder;
  readonly features: FeatureReader;
  readonly predictions: PredictionLogger;
  readonly metrics: ServingMetrics;
}

function slot(m: ServedModel | null): Ready['model'] {
  if (m === null || m.alias === 'prior') return 'none';
  return { version: m.label, kind: m.kind, digest: m.digest, loadedAt: m.loadedAt };
}

/** The readiness detail (also used by the dashboard and `pctr start` status lines). */
export function readiness(deps: Omit<HealthDeps, 'metrics'>): Ready {
  const h = deps.holder.status();
  const store = deps.features.status();
  const log = deps.predictions.stats();
  const loadError = h.lastLoadError;
  return {
    status: store.status === 'degraded' ? 'degraded' : 'ready',
    model: slot(h.champion),
    challenger: slot(h.challenger),
    challengerShare: deps.holder.router.challengerShare,
    shadow: deps.holder.shadow,
    onlineStore: store,
    modelLoads: { failures: h.loadFailures, ...(loadError ? { lastError: loadError } : {}) },
    impressionLog: { queued: log.queued, dropped: log.dropped, failures: log.failures, ...(log.lastError ? { lastError: log.lastError } : {}) },
  };
}

export function healthRoutes(app: FastifyInstance, deps: HealthDeps): void {
  const publicRoute = { rateLimit: false } as const;
  app.get('/healthz', { config: publicRoute, schema: { summary: 'Liveness', tags: ['ops'], response: { 200: jsonSchema(HealthResponse, 'output') } } }, () => ({
    status: 'ok' as const,
  }));
  app.get(
    '/readyz',
    {
      config: publicRoute,
      schema: {
        summary: 'Readiness with detail: models served, online store state, load and log errors',
        tags: ['ops'],
        response: { 200: jsonSchema(ReadyResponse, 'output') },
      },
    },
    () => readiness(deps),
  );
  app.get(
    '/metrics',
    {
      config: publicRoute,
      schema: { summary: 'Prometheus metrics', tags: ['ops'], produces: ['text/plain'], response: { 200: { type: 'string', description: 'Prometheus text exposition format' } } },
    },
    async (_request, reply) => {
      reply.header('content-type', deps.metrics.registry.contentType);
      return deps.metrics.registry.metrics();
    },
  );
}
