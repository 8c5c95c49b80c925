/**
 * serving: the online half of pctr. It owns the Fastify gateway (`buildApp`: rank and click
 * routes, health/readiness/metrics, OpenAPI at /docs/json, API keys with client/admin roles, per-key
 * rate limits, one error catalog answer for every rejection), the ranker (one batched feature read,
 * one scoring call for all candidates, eCPM, business rules, top-k), asynchronous batched prediction
 * logging (impressions with features as served; shadow scores), and the model holder that follows
 * the registry's champion/challenger aliases, loads and smoke-tests new versions off the request
 * path, swaps them atomically, and routes an A/B share of users (or shadow scores) to the challenger.
 */
export { buildApp, type GatewayDeps, type GatewayPlugin, type ServingParts } from './app.ts';
export { Ranker, type ModelRouter, type RankInput, type RankResult, type RankerOptions } from './ranker.ts';
export { ModelHolder, type HolderStatus, type LoadFailure, type ModelHolderOptions, type ModelRoute } from './model-holder.ts';
export { PredictionLogger, type EventSink, type LoggerStats, type PredictionLoggerOptions } from './prediction-logger.ts';
export { FeatureReader, type FeatureStoreStatus } from './feature-reader.ts';
export { AbRouter, AB_SALT } from './ab-router.ts';
export { PriorModel, priorServedModel, type ModelAlias, type ServedModel } from './served-model.ts';
export { TopKSelector, type TopKInput } from './top-k.ts';
export { createServingMetrics, type ServingMetrics } from './metrics.ts';
export { readiness } from './routes/health.route.ts';
export { redactConfig, redactUrl } from './routes/admin.route.ts';
export { smokeTest } from './smoke.ts';
export {
  ErrorResponse,
  KEYED,
  jsonSchema,
  MAX_EVENTS_PER_REQUEST,
  MAX_K,
  RankCandidate,
  RankContext,
  RankResponse,
  RankedAd,
  rankRequestSchema,
  type RankRequest,
  type RankRequestInput,
} from './schemas.ts';
