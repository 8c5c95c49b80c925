/**
 * sim: the seeded ad-market simulator. It owns a hidden true-CTR model (user × category affinity,
 * ad quality, position bias, context effects, calibrated to a base CTR), delayed clicks with a
 * heavy tail past the attribution window, drift (ad fatigue, cold ads, taste walk, a scheduled
 * context shift), and three ways to use it: `AdMarket` for a serving loop (rank requests in,
 * outcomes out), `generateEvents`/`generateEventRecords` for impression and click events in
 * event-time order at hundreds of thousands per second, and `exportDataset` for Criteo- and
 * Avazu-format files with the true CTR per row; `TrafficDriver` drives a real gateway over HTTP with
 * the market's users and clicks, comparing served pCTR with the oracle. Every impression carries
 * the oracle CTR in `oracleCtr`, a side channel that is never a model feature. Same seed, same market.
 */
export { TrafficDriver, type TrafficDriverOptions, type TrafficStats } from './http-driver.ts';
export { ServedWindow, type WindowMetrics } from './served-window.ts';
export type { ClickEvent } from './click-sender.ts';
export { AdMarket, hourOf, requestFeatures, type Candidate, type MarketRequest, type MarketState, type Outcome } from './ad-market.ts';
export { EventGenerator, generateEventRecords, generateEvents, type EventBatch, type GeneratorStats } from './event-generator.ts';
export { DEFAULT_START_TS, GeneratorOptionsSchema, type GeneratorOptions, type GeneratorOptionsInput } from './generator-options.ts';
export {
  MarketOptionsSchema,
  parseMarketOptions,
  type ContextShift,
  type DelayOptions,
  type DriftOptions,
  type MarketOptions,
  type MarketOptionsInput,
} from './options.ts';
export { AliasTable, Rng, ZipfSampler } from './rng.ts';
export { DEFAULT_EXPORT_CTR, EXPORT_FORMATS, exportDataset, type ExportFormat, type ExportOptions, type ExportSummary } from './export/export-dataset.ts';
export { AVAZU_HEADER } from './export/avazu.ts';
export { checkReplayRecord, replayEvents, type ReplayOptions, type ReplayStats } from './replay.ts';
