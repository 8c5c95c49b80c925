/**
 * features: the feature store. It owns the feature definitions (request-level features plus
 * windowed impression/click/CTR aggregates per user, ad, campaign and user×category), the assembly
 * of served features for a rank request, the streaming aggregator that keeps those aggregates from
 * the event log, the online store (`memory`, `redis`: one packed vector per entity, one round trip
 * per request) and the offline store (hour-partitioned Parquet read with DuckDB, filled by an
 * idempotent sink, with point-in-time snapshot joins). Other modules import only from here.
 */
export {
  DEFAULT_CTR_PRIOR,
  ENTITY_LAYOUTS,
  ENTITY_TYPES,
  LAYOUT_WIDTH,
  WINDOWS,
  WINDOW_STATS,
  defaultFeatures,
  entityLayout,
  servedFeatureKind,
  servedFeatureSchema,
  smoothedCtr,
  userCategoryKey,
  type CtrPrior,
  type EntityType,
  type WindowSpec,
} from './definitions.ts';
export {
  ServedBatchWriter,
  assembleServedFeatures,
  entityRefs,
  packVectors,
  type CandidateLike,
  type RankRequestLike,
  type RequestEntities,
} from './served.ts';
export * from './online-store/index.ts';
export * from './offline-store/index.ts';
export { Aggregator, type AggregatorOptions, type AggregatorStats, type EntitySnapshot } from './aggregates/aggregator.ts';
export { AggregateRunner, type AggregateProgress, type AggregateRunnerOptions } from './aggregates/aggregate-runner.ts';
