/**
 * The Redis online store. Each entity's vector is ONE packed value (codec.ts) at
 * `${prefix}:f:${entity}:${key}` with a TTL, so a rank request's user, ads, campaigns and
 * user×categories come back in one MGET (one round trip, ~0.2 ms for 100 keys), and a batch of
 * updates is one pipeline of SET … PX. Reads have a time budget: a slow or unreachable Redis fails
 * the call fast with a PctrError instead of queueing it, and the ranker serves defaults.
 */
import { Redis } from 'ioredis';
import { PctrError, errorMessage, parseDuration } from '../../core/index.ts';
import type { EntityLayouts } from './codec.ts';
import { LayoutSet, type Layout } from './codec.ts';
import type { EntityRef, FeatureRow, FeatureVector, OnlineStore, PackedReader } from './online-store.ts';

export interface RedisOnlineStoreConfig {
  readonly type: 'redis';
  /** `redis://[user:pass@]host:port[/db]` (no query). */
  readonly url: string;
  /** Key prefix; keys are `${prefix}:f:${entity}:${key}`. */
  readonly prefix: string;
  /** Expiry of every written vector (wall time); the aggregator rewrites live entities long before. */
  readonly ttlMs: number;
  /** Budget of one `get`; past it the call fails with PCTR_TIMEOUT. */
  readonly readTimeoutMs: number;
  /** Budget of one `put` batch. */
  readonly writeTimeoutMs: number;
  readonly layouts?: EntityLayouts;
}

export const REDIS_STORE_DEFAULTS = { prefix: 'pctr', ttlMs: 48 * 3_600_000, readTimeoutMs: 20, writeTimeoutMs: 10_000 } as const;

/**
 * SET … PX of many keys in one server-side call: parsing one command per key is most of the cost
 * of a flush (about 2.5× the throughput of pipelined SETs here). Small batches per call keep each
 * call short (~0.1 ms), so reads of the ranking path are not held behind a long script.
 */
const PUT_SCRIPT = `local ttl = ARGV[1]
for i = 1, #KEYS do redis.call('SET', KEYS[i], ARGV[i + 1], 'PX', ttl) end
return #KEYS`;
const KEYS_PER_CALL = 200;
/** Calls per pipeline, so one huge flush does not build one huge reply buffer. */
const CALLS_PER_PIPELINE = 50;

type ScriptedPipeline = ReturnType<Redis['pipeline']> & { pctrPutVectors(...args: (string | number | Buffer)[]): unknown };

/**
 * `redis://host:port[/db]?prefix=pctr&ttl=48h&timeout=20ms` → config; `overrides` (e.g. the configured
 * read budget) win over the URL's query, which wins over the defaults.
 */
export function parseRedisStoreUrl(url: string, overrides: Partial<Omit<RedisOnlineStoreConfig, 'type' | 'url'>> = {}): RedisOnlineStoreConfig {
  let u: URL;
  try {
    u = new URL(url);
  } catch (e) {
    throw new PctrError('PCTR_CONFIG_INVALID', `online store URL "${url}" is not a URL (expected redis://host:port[/db]?prefix=pctr)`, { cause: e });
  }
  const q = u.searchParams;
  const duration = (name: string): number | undefined => {
    const v = q.get(name);
    if (v === null) return undefined;
    try {
      return parseDuration(v);
    } catch (e) {
      throw new PctrError('PCTR_CONFIG_INVALID', `online store URL "${url}": ${name}=${v}: ${errorMessage(e)}`, { cause: e });
    }
  };
  for (const name of q.keys()) {
    if (!['prefix', 'ttl', 'timeout', 'write_timeout'].includes(name)) {
      throw new PctrError('PCTR_CONFIG_INVALID', `online store URL "${url}": unknown parameter "${name}" (known: prefix, ttl, timeout, write_timeout)`);
    }
  }
  const prefix = q.get('prefix');
  const ttlMs = duration('ttl');
  const readTimeoutMs = duration('timeout');
  const writeTimeoutMs = duration('write_timeout');
  u.search = '';
  return {
    type: 'redis',
    url: u.toString(),
    prefix: overrides.prefix ?? prefix ?? REDIS_STORE_DEFAULTS.prefix,
    ttlMs: overrides.ttlMs ?? ttlMs ?? REDIS_STORE_DEFAULTS.ttlMs,
    readTimeoutMs: overrides.readTimeoutMs ?? readTimeoutMs ?? REDIS_STORE_DEFAULTS.readTimeoutMs,
    writeTimeoutMs: overrides.writeTimeoutMs ?? writeTimeoutMs ?? REDIS_STORE_DEFAULTS.writeTimeoutMs,
    layouts: overrides.layouts,
  };
}

export class RedisOnlineStore implements OnlineStore, PackedReader {
  private readonly redis: Redis;
  private readonly layouts: LayoutSet;
  private readonly where: string;
  private lastError: Error | null = null;
  private connecting: Promise<void> | null = null;
  private closed = false;

  constructor(readonly config: RedisOnlineStoreConfig) {
    this.layouts = new LayoutSet(config.layouts);
    const u = new URL(config.url);
    this.where = `${u.hostname}:${u.port || 6379}${u.pathname.length > 1 ? u.pathname : ''}`;
    this.redis = new Redis(config.url, {
      lazyConnect: true,
      // Fail commands instead of queueing them while disconnected: a queued read would stall a request.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 2000,
      retryStrategy: (times) => Math.min(50 * times, 1000),
    });
    this.redis.defineCommand('pctrPutVectors', { lua: PUT_SCRIPT });
    this.redis.on('error', (e: Error) => {
      this.lastError = e;
    });
    // A dropped connection fails calls at once until it is back, rather than each waiting its budget.
    this.redis.on('close', () => {
      if (!this.closed) this.lastError ??= new Error('connection closed');
    });
    this.redis.on('ready', () => {
      this.lastError = null;
    });
  }

  async get(refs: readonly EntityRef[]): Promise<(FeatureVector | null)[]> {
    if (refs.length === 0) return [];
    const layouts = new Array<Layout>(refs.length);
    const keys = new Array<string>(refs.length);
    const prefix = this.config.prefix;
    for (let i = 0; i < refs.length; i++) {
      layouts[i] = this.layouts.get(refs[i].entity);
      keys[i] = `${prefix}:f:${refs[i].entity}:${refs[i].key}`;
    }
    const bufs = await this.call('get', this.config.readTimeoutMs, () => this.redis.mgetBuffer(keys));
    const out: (FeatureVector | null)[] = new Array(refs.length);
    for (let i = 0; i < refs.length; i++) {
      const b = bufs[i];
      out[i] = b === null ? null : layouts[i].decode(b);
    }
    return out;
  }

  async getPacked(refs: readonly EntityRef[], out: Float32Array, stride: number): Promise<number> {
    if (refs.length === 0) return 0;
    const layouts = new Array<Layout>(refs.length);
    const keys = new Array<string>(refs.length);
    const prefix = this.config.prefix;
    for (let i = 0; i < refs.length; i++) {
      layouts[i] = this.layouts.get(refs[i].entity);
      keys[i] = `${prefix}:f:${refs[i].entity}:${refs[i].key}`;
    }
    const bufs = await this.call('get', this.config.readTimeoutMs, () => this.redis.mgetBuffer(keys));
    let missing = 0;
    for (let i = 0; i < refs.length; i++) {
      const layout = layouts[i];
      const b = bufs[i];
      if (b === null || !layout.decodeInto(b, out, i * stride)) {
        out.fill(NaN, i * stride, i * stride + layout.names.length);
        missing++;
      }
    }
    return missing;
  }

  layoutOf(entity: string): readonly string[] {
    return this.layouts.get(entity).names;
  }

  async put(rows: readonly FeatureRow[]): Promise<void> {
    if (rows.length === 0) return;
    const scratch = new Float32Array(this.layouts.maxWidth);
    const values = rows.map((r) => this.layouts.get(r.ref.entity).encode(r.values, r.ts, scratch));
    const ttl = Math.max(1, Math.round(this.config.ttlMs));
    const prefix = this.config.prefix;
    const keys = rows.map((r) => `${prefix}:f:${r.ref.entity}:${r.ref.key}`);
    await this.call('put', this.config.writeTimeoutMs, async () => {
      const perPipeline = KEYS_PER_CALL * CALLS_PER_PIPELINE;
      for (let start = 0; start < rows.length; start += perPipeline) {
        const pipe = this.redis.pipeline() as ScriptedPipeline;
        const end = Math.min(rows.length, start + perPipeline);
        for (let s = start; s < end; s += KEYS_PER_CALL) {
          const e = Math.min(end, s + KEYS_PER_CALL);
          pipe.pctrPutVectors(e - s, ...keys.slice(s, e), ttl, ...values.slice(s, e));
        }
        const results = await pipe.exec();
        const failed = results?.find(([err]) => err !== null);
        if (failed) throw failed[0];
      }
    });
  }

  /** Drops the connection: every `put` has been acknowledged before it resolved, so nothing is lost. */
  async close(): Promise<void> {
    this.closed = true;
    this.redis.disconnect();
  }

  /** Run one command within a time budget, translating every failure into a PctrError. */
  private async call<T>(op: string, budgetMs: number, fn: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new PctrError('PCTR_TIMEOUT', `online store ${op} on Redis at ${this.where} took longer than ${budgetMs} ms`, { details: { budgetMs } })),
        budgetMs,
      );
    });
    try {
      return await Promise.race([this.ready(op).then(fn), deadline]);
    } catch (e) {
      if (e instanceof PctrError) throw e;
      throw this.unavailable(op, e);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Resolves once connected; fails at once when the connection is known to be down. */
  private ready(op: string): Promise<void> {
    const r = this.redis;
    if (r.status === 'ready') return Promise.resolve();
    if (this.closed || r.status === 'end') return Promise.reject(new PctrError('PCTR_BACKEND_UNAVAILABLE', `online store ${op}: the Redis store at ${this.where} is closed`));
    if (this.lastError !== null) return Promise.reject(this.unavailable(op, this.lastError));
    // Callers arriving while the first connection is made share one wait (no listener per call).
    this.connecting ??= new Promise<void>((resolve, reject) => {
      const settle = (err: Error | null) => {
        r.off('ready', onReady);
        r.off('error', onError);
        this.connecting = null;
        if (err) reject(err);
        else resolve();
      };
      const onReady = () => settle(null);
      const onError = (e: Error) => settle(e);
      r.on('ready', onReady);
      r.on('error', onError);
      if (r.status === 'wait') r.connect().catch(() => undefined);
    });
    return this.connecting.catch((e: unknown) => {
      throw this.unavailable(op, e);
    });
  }

  private unavailable(op: string, cause: unknown): PctrError {
    return new PctrError('PCTR_BACKEND_UNAVAILABLE', `online store ${op}: Redis at ${this.where} is unavailable: ${errorMessage(cause)}`, { cause });
  }
}
