/**
 * The event log on Redis Streams: one stream per partition (`<prefix>:<topic>:<partition>`), entries
 * `1-<offset>` with one field, named by the record's key, holding its value; consumer groups for
 * at-least-once consumers, and MULTI/EXEC for exactly-once commits. `retentionBytes` > 0 trims
 * streams to about that many entries.
 */
import type { Redis } from 'ioredis';
import { PctrError, partitionOf, silentLogger, type Logger } from '../../core/index.ts';
import type { AppendAck, AppendRecord, Consumer, EventLog, SubscribeOptions, TransactionalConsumer } from '../event-log.ts';
import { LazyAppendAck, checkName, checkPartitions, transactionalTopics, type EventsSettings } from '../common.ts';
import { recordSource } from '../record-buffer.ts';
import { RedisConsumer } from './redis-consumer.ts';
import { RedisTransactional } from './redis-transactional.ts';
import type { RedisLogConfig, RedisLogContext } from './redis-context.ts';
import { Keys, XaddPrefixes, connect, dataConnection, offsetOf, redisError } from './redis-io.ts';
import type { RespConnection } from './resp-connection.ts';
import { CommandWriter } from './resp.ts';

export type { RedisLogConfig };

/** `redis://host:port[/db][?prefix=pctr]` plus the shared event settings. */
export function redisLogConfig(settings: EventsSettings): RedisLogConfig {
  let u: URL;
  try {
    u = new URL(settings.url);
  } catch (e) {
    throw new PctrError('PCTR_CONFIG_INVALID', `events.url ${settings.url} is not a valid redis URL`, { cause: e });
  }
  const prefix = u.searchParams.get('prefix') ?? 'pctr';
  if (!/^[\w.:-]{1,64}$/.test(prefix)) throw new PctrError('PCTR_CONFIG_INVALID', `events.url ${settings.url}: prefix "${prefix}" must be 1-64 letters, digits, . : - _`);
  u.searchParams.delete('prefix');
  return { type: 'redis', url: u.toString(), prefix, partitions: settings.partitions, maxLen: settings.retentionBytes };
}

export class RedisEventLog implements EventLog, RedisLogContext {
  readonly partitions: number;
  readonly keys: Keys;
  readonly where: string;
  readonly xadds: XaddPrefixes;
  private readonly attached = new Set<{ close(): Promise<void> }>();
  /** Appends: pipelined XADDs. */
  private readonly data: RespConnection;
  private closed = false;

  private constructor(
    readonly config: RedisLogConfig,
    readonly main: Redis,
    readonly logger: Logger,
  ) {
    this.partitions = config.partitions;
    this.keys = new Keys(config.prefix);
    this.xadds = new XaddPrefixes(this.keys, config.partitions, config.maxLen);
    this.data = dataConnection(config.url, 'pctr-events-append');
    const u = new URL(config.url);
    this.where = `${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  }

  /** Connect and check the server supports `1-*` ids (Redis ≥ 7). */
  static async open(config: RedisLogConfig, logger: Logger = silentLogger): Promise<RedisEventLog> {
    const main = connect(config.url, 'pctr-events');
    const log = new RedisEventLog(config, main, logger);
    try {
      await main.connect();
      const info = await main.info('server');
      const version = /redis_version:(\d+)/.exec(info)?.[1];
      if (version !== undefined && Number(version) < 7) {
        throw new PctrError('PCTR_BACKEND_UNAVAILABLE', `event log redis ${log.where}: Redis ${version} is too old; streams with 1-* ids need Redis 7 or later`);
      }
      const meta = log.keys.meta();
      await main.hsetnx(meta, 'partitions', String(config.partitions));
      const found = Number(await main.hget(meta, 'partitions'));
      if (found !== config.partitions) {
        throw new PctrError('PCTR_CONFIG_INVALID', `event log redis ${log.where} prefix ${config.prefix} was created with ${found} partitions per topic but events.partitions is ${config.partitions}; keys would land in other partitions`, {
          details: { found, configured: config.partitions },
        });
      }
    } catch (e) {
      main.disconnect();
      throw redisError(e, 'connecting', log.where);
    }
    return log;
  }

  connection(role: string): Redis {
    return connect(this.config.url, `pctr-events-${role}`);
  }

  dataConnection(role: string): RespConnection {
    return dataConnection(this.config.url, `pctr-events-${role}`);
  }

  detach(consumer: { close(): Promise<void> }): void {
    this.attached.delete(consumer);
  }

  async append(topic: string, records: readonly AppendRecord[]): Promise<AppendAck> {
    this.ensureOpen();
    checkName(topic, 'topic');
    const n = records.length;
    const P = this.partitions;
    const parts = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const r = records[i];
      if (typeof r?.key !== 'string' || typeof r.value !== 'string') throw new PctrError('PCTR_VALIDATION', `append to ${topic}: record ${i} needs string key and value`);
      parts[i] = partitionOf(r.key, P);
    }
    // One pipeline in input order: a connection's commands run in order, so each partition keeps the order of its records.
    const src = recordSource(records);
    const prefixes = this.xadds.of(topic);
    const w = new CommandWriter();
    for (let i = 0; i < n; i++) w.prefixed(prefixes[parts[i]]).record(src, i);
    const offsets = new Float64Array(n);
    try {
      await this.data.request(w.finish(), n, (r) => {
        for (let i = 0; i < n; i++) offsets[i] = r.streamSeq();
      });
    } catch (e) {
      throw redisError(e, `append to ${topic}`, this.where);
    }
    return new LazyAppendAck(parts, offsets);
  }

  subscribe(topic: string, group: string, opts: SubscribeOptions = {}): Consumer {
    this.ensureOpen();
    checkName(topic, 'topic');
    checkName(group, 'group');
    const c = new RedisConsumer(this, topic, group, checkPartitions(opts.partitions, this.partitions), opts.from ?? 'earliest');
    this.attached.add(c);
    return c;
  }

  transactional(topic: string | readonly string[], id: string, opts: { partitions: readonly number[] }): TransactionalConsumer {
    this.ensureOpen();
    const topics = transactionalTopics(topic, id);
    const c = new RedisTransactional(this, topics, id, checkPartitions(opts.partitions, this.partitions));
    this.attached.add(c);
    return c;
  }

  async endOffsets(topic: string): Promise<number[]> {
    this.ensureOpen();
    checkName(topic, 'topic');
    const pipe = this.main.pipeline();
    for (let p = 0; p < this.partitions; p++) pipe.xinfo('STREAM', this.keys.stream(topic, p));
    let results: [Error | null, unknown][] | null;
    try {
      results = await pipe.exec();
    } catch (e) {
      throw redisError(e, `end offsets of ${topic}`, this.where);
    }
    return (results ?? []).map(([err, info]) => {
      if (err) {
        if (/no such key/i.test(err.message)) return 0;
        throw redisError(err, `end offsets of ${topic}`, this.where);
      }
      const arr = info as unknown[];
      const last = arr[arr.indexOf('last-generated-id') + 1] as string;
      return last === '0-0' ? 0 : offsetOf(last) + 1;
    });
  }

  async committedOffsets(topic: string, group: string): Promise<number[]> {
    this.ensureOpen();
    checkName(topic, 'topic');
    checkName(group, 'group');
    let values: (string | null)[];
    try {
      values = await this.main.hmget(this.keys.offsets(group, topic), ...Array.from({ length: this.partitions }, (_, p) => String(p)));
    } catch (e) {
      throw redisError(e, `committed offsets of ${group} on ${topic}`, this.where);
    }
    return values.map((v) => (v === null ? -1 : Number(v)));
  }

  private ensureOpen(): void {
    if (this.closed) throw new PctrError('PCTR_BACKEND_UNAVAILABLE', `event log redis ${this.where} is closed`);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await Promise.all([...this.attached].map((c) => c.close()));
    this.closed = true;
    await this.data.end();
    try {
      await this.main.quit();
    } catch {
      this.main.disconnect();
    }
  }
}
