/**
 * The online store: the contract, its two backends (`memory` for embedded runs and tests, `redis`
 * for distributed ones) and the factory that picks one by URL (`memory:` or `redis://…`).
 */
import { PctrError, urlScheme } from '../../core/index.ts';
import { DEFAULT_MEMORY_CONFIG, MemoryOnlineStore, type MemoryOnlineStoreConfig } from './memory.ts';
import { RedisOnlineStore, parseRedisStoreUrl, type RedisOnlineStoreConfig } from './redis.ts';
import type { OnlineStore } from './online-store.ts';

export { canReadPacked, type EntityRef, type FeatureRow, type FeatureVector, type OnlineStore, type PackedReader } from './online-store.ts';
export { Layout, LayoutSet, PACKED_FORMAT, type EntityLayouts } from './codec.ts';
export { MemoryOnlineStore, type MemoryOnlineStoreConfig } from './memory.ts';
export { RedisOnlineStore, REDIS_STORE_DEFAULTS, parseRedisStoreUrl, type RedisOnlineStoreConfig } from './redis.ts';

export type OnlineStoreConfig = MemoryOnlineStoreConfig | RedisOnlineStoreConfig;

/** `memory:` or `redis://host:port[/db]?prefix=…&ttl=…&timeout=…` → a backend config; `readTimeoutMs` overrides the URL's. */
export function parseOnlineStoreUrl(url: string, opts: { readTimeoutMs?: number } = {}): OnlineStoreConfig {
  switch (urlScheme(url)) {
    case 'memory':
      return DEFAULT_MEMORY_CONFIG;
    case 'redis':
      return parseRedisStoreUrl(url, opts.readTimeoutMs === undefined ? {} : { readTimeoutMs: opts.readTimeoutMs });
    default:
      throw new PctrError('PCTR_CONFIG_INVALID', `online store URL "${url}" has an unknown scheme (use memory: or redis://host:port[/db])`);
  }
}

export function createOnlineStore(config: OnlineStoreConfig | string, opts: { readTimeoutMs?: number } = {}): OnlineStore {
  const cfg = typeof config === 'string' ? parseOnlineStoreUrl(config, opts) : config;
  switch (cfg.type) {
    case 'memory':
      return new MemoryOnlineStore(cfg);
    case 'redis':
      return new RedisOnlineStore(cfg);
  }
}
