/**
 * `buildApp(deps)`: the gateway as a Fastify instance, apart from `listen`, so tests drive it with
 * `inject()` and `pctr gateway` / `pctr start` listen on it. The caller owns and closes the backends
 * it passes (online store, event sink, registry); the app owns what it builds on them — metrics,
 * feature reader, prediction logger, model holder, ranker — and closes those with `app.close()`
 * (flushing queued impressions first).
 */
import swagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { IdGenerator, silentLogger, systemClock, type Clock, type Config, type Logger } from '../core/index.ts';
import type { OnlineStore } from '../features/index.ts';
import type { Registry } from '../registry/index.ts';
import { FeatureReader } from './feature-reader.ts';
import { createServingMetrics, type ServingMetrics } from './metrics.ts';
import { ModelHolder } from './model-holder.ts';
import { registerAuth } from './plugins/auth.ts';
import { registerErrorHandling } from './plugins/errors.ts';
import { registerJsonBody } from './plugins/json-body.ts';
import { registerRateLimit } from './plugins/rate-limit.ts';
import { PredictionLogger, type EventSink, type PredictionLoggerOptions } from './prediction-logger.ts';
import { Ranker } from './ranker.ts';
import { adminRoutes } from './routes/admin.route.ts';
import { eventsRoute } from './routes/events.route.ts';
import { healthRoutes } from './routes/health.route.ts';
import { rankRoute } from './routes/rank.route.ts';

export interface GatewayDeps {
  /** The whole config: `gateway.*` limits and keys, `registry.modelName`; `GET /v1/admin/config` shows it redacted. */
  readonly config: Config;
  readonly store: OnlineStore;
  /** Where impressions, shadow scores and clicks are appended (the event log, or a proxy to it). */
  readonly events: EventSink;
  readonly registry: Registry;
  readonly logger?: Logger;
  /** Event time of requests that carry no `ts` (default: the wall clock). */
  readonly clock?: Clock;
  /** Batching and queue bound of the prediction logger. */
  readonly predictionLog?: Omit<PredictionLoggerOptions, 'logger' | 'metrics'>;
  /** More routes on this gateway (the dashboard's /api and static files), registered after the core routes. */
  readonly plugins?: readonly GatewayPlugin[];
}

/**
 * Adds routes (and hooks) to the gateway with access to its serving parts. Routes declare their role
 * as the core ones do (`config: { role: 'client' }`); the auth and rate-limit hooks apply to them too.
 * Serving knows nothing of what they are, so the modules that provide them depend on serving, not
 * the other way round.
 */
export type GatewayPlugin = (app: FastifyInstance, parts: ServingParts) => Promise<void> | void;

/** The parts of a built gateway, for in-process use (benchmarks, `pctr start`, the dashboard later). */
export interface ServingParts {
  readonly ranker: Ranker;
  readonly holder: ModelHolder;
  readonly features: FeatureReader;
  readonly predictions: PredictionLogger;
  readonly metrics: ServingMetrics;
}

declare module 'fastify' {
  interface FastifyInstance {
    serving: ServingParts;
  }
}

export async function buildApp(deps: GatewayDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const g = config.gateway;
  const logger = deps.logger ?? silentLogger;
  const clock = deps.clock ?? systemClock;
  const metrics = createServingMetrics();
  const features = new FeatureReader(deps.store, { metrics, logger });
  const predictions = new PredictionLogger(deps.events, { ...deps.predictionLog, logger, metrics });
  const holder = new ModelHolder({ registry: deps.registry, name: config.registry.modelName, challengerShare: g.challengerShare, shadow: g.shadow, logger, metrics });
  const ranker = new Ranker({ holder, features, log: predictions, minPctr: g.minPctr, clock, ids: new IdGenerator(), metrics });
  await holder.start();
  try {
    return await assemble(deps, { features, predictions, holder, ranker, metrics }, clock);
  } catch (e) {
    await holder.close();
    await predictions.close(0);
    throw e;
  }
}

async function assemble(deps: GatewayDeps, parts: ServingParts, clock: Clock): Promise<FastifyInstance> {
  const { config } = deps;
  const g = config.gateway;
  const { features, predictions, holder, ranker, metrics } = parts;
  const app = Fastify({
    loggerInstance: (deps.logger ?? silentLogger) as FastifyBaseLogger,
    // Per-request log lines would cost more than ranking at thousands of requests per second.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: g.bodyLimitBytes,
    // JSON in, JSON out: no type coercion, no silently removed fields, defaults filled in.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: true, allErrors: false } },
  });
  // JSON only: a text/plain body is refused as an unsupported content type rather than parsed as a string.
  registerJsonBody(app);
  app.decorate('serving', parts);
  app.addHook('onClose', async () => {
    await holder.close();
    await predictions.close();
  });
  registerErrorHandling(app, { bodyLimit: g.bodyLimitBytes });
  registerAuth(app, g.apiKeys);
  await registerRateLimit(app, g.rateLimitPerMinute);
  await app.register(swagger, {
    openapi: {
      info: { title: 'pctr gateway', version: '1', description: 'Real-time ad ranking by predicted click-through rate, click intake, model administration.' },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'API key as a bearer token' },
          apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
        },
      },
      tags: [
        { name: 'serving', description: 'Ranking and click intake (client keys)' },
        { name: 'admin', description: 'Model aliases and config (admin keys)' },
        { name: 'ops', description: 'Health, readiness and metrics (no key)' },
      ],
    },
  });
  app.addHook('onResponse', (request, reply, done) => {
    metrics.httpDuration.observe({ route: request.routeOptions.url ?? 'unmatched', method: request.method, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    done();
  });

  rankRoute(app, { ranker, maxCandidates: g.maxCandidates });
  eventsRoute(app, { sink: deps.events, clock, metrics });
  adminRoutes(app, { registry: deps.registry, holder, config });
  healthRoutes(app, { holder, features, predictions, metrics });
  for (const plugin of deps.plugins ?? []) await plugin(app, parts);
  app.get('/docs/json', { config: { rateLimit: false }, schema: { hide: true } }, () => app.swagger());
  await app.ready();
  return app;
}
