/** The redis backend's config type and what its consumers need from the log that opened them. */
import type { Logger } from '../../core/index.ts';
import type { Keys, RedisWithAppend } from './redis-io.ts';

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
  readonly main: RedisWithAppend;
  readonly where: string;
  readonly logger: Logger;
  connection(role: string): RedisWithAppend;
  detach(consumer: { close(): Promise<void> }): void;
}
