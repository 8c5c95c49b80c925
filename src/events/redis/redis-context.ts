/** The redis backend's config type and what its consumers need from the log that opened them. */
import type { Redis } from 'ioredis';
import type { Logger } from '../../core/index.ts';
import type { Keys, XaddPrefixes } from './redis-io.ts';
import type { RespConnection } from './resp-connection.ts';

export interface RedisLogConfig {
  readonly type: 'redis';
  /** Connection URL without the `prefix` parameter. */
  readonly url: string;
  readonly prefix: string;
  readonly partitions: number;
  /** Approximate MAXLEN per partition stream (0 = no trimming). */
  readonly maxLen: number;
}

export interface RedisLogContext {
  readonly config: RedisLogConfig;
  readonly keys: Keys;
  readonly main: Redis;
  readonly xadds: XaddPrefixes;
  readonly where: string;
  readonly logger: Logger;
  /** A new ioredis connection (control commands, consumer groups). */
  connection(role: string): Redis;
  /** A new data-path connection (pipelined XADD, XREAD, MULTI/EXEC). */
  dataConnection(role: string): RespConnection;
  detach(consumer: { close(): Promise<void> }): void;
}
