/**
 * events: the append-only, partitioned, replayable event log (contract in event-log.ts) that carries
 * impressions, clicks and labeled examples between the gateway, the join, the aggregator and the
 * learners. It owns two backends — `file` (embedded: CRC-checked segment files, crash recovery,
 * exactly-once checkpoints) and `redis` (Redis Streams, consumer groups, MULTI/EXEC commits) — chosen
 * by the URL in `config.events` through `createEventLog`, plus typed helpers to append and decode
 * core events. Other modules import only from here.
 */
import { PctrError, urlScheme, type Logger } from '../core/index.ts';
import type { EventsSettings } from './common.ts';
import type { EventLog } from './event-log.ts';
import { FileEventLog, fileLogConfig, type FileLogConfig } from './file/file-log.ts';
import { RedisEventLog, redisLogConfig, type RedisLogConfig } from './redis/redis-log.ts';

export type * from './event-log.ts';
export type { EventsSettings } from './common.ts';
export { appendEvents, decodeEvent } from './event-codec.ts';
export { RecordBuffer, copyBytes } from './record-buffer.ts';
export { FileEventLog, type FileLogConfig, type RecoveryReport } from './file/file-log.ts';
export { RedisEventLog, type RedisLogConfig } from './redis/redis-log.ts';

export type EventLogConfig = FileLogConfig | RedisLogConfig;

/** The backend config named by `settings.url` (`file:DIR` or `redis://host:port[/db][?prefix=pctr]`). */
export function eventLogConfig(settings: EventsSettings): EventLogConfig {
  const scheme = urlScheme(settings.url);
  switch (scheme) {
    case 'file':
      return fileLogConfig(settings);
    case 'redis':
    case 'rediss':
      return redisLogConfig(settings);
    default:
      throw new PctrError('PCTR_CONFIG_INVALID', `events.url ${settings.url}: unknown event log backend "${scheme}" (use file:DIR or redis://host:port)`);
  }
}

/** Open the event log `config.events` names. */
export async function createEventLog(settings: EventsSettings | EventLogConfig, deps: { logger?: Logger } = {}): Promise<EventLog> {
  const cfg = 'type' in settings ? settings : eventLogConfig(settings);
  switch (cfg.type) {
    case 'file':
      return new FileEventLog(cfg, deps.logger);
    case 'redis':
      return RedisEventLog.open(cfg, deps.logger);
  }
}
