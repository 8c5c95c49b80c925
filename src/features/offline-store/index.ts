/**
 * The offline store: labeled examples as hour-partitioned Parquet files (`file:DIR`) queried with
 * DuckDB — the contract, the Parquet backend, and the idempotent sink that fills it from the
 * `examples` topic.
 */
import { ParquetOfflineStore, parseOfflineStoreUrl, type ParquetOfflineStoreConfig } from './parquet.ts';
import type { OfflineStore } from './offline-store.ts';

export type { OfflineStats, OfflineStore, ReadOptions, TimeRange } from './offline-store.ts';
export { ParquetOfflineStore, parseOfflineStoreUrl, type ParquetOfflineStoreConfig } from './parquet.ts';
export { OfflineSink, type OfflineSinkOptions, type SinkProgress } from './sink.ts';
export { FIXED_COLUMNS, featureColumn } from './columns.ts';
export { SNAPSHOT_LOOKBACK_MS } from './parquet-read.ts';

export type OfflineStoreConfig = ParquetOfflineStoreConfig;

/** `file:DIR` (or its parsed config) → the store. */
export function createOfflineStore(config: OfflineStoreConfig | string): OfflineStore & { readonly dir: string } {
  const cfg = typeof config === 'string' ? parseOfflineStoreUrl(config) : config;
  switch (cfg.type) {
    case 'file':
      return new ParquetOfflineStore(cfg);
  }
}
