/**
 * Redis plumbing shared by the redis backend: connections with a short retry budget (a Redis that
 * is down fails calls quickly with a clear error and is reconnected to in the background), error
 * translation at the boundary, key names, stream-id ↔ offset mapping, and the append script.
 *
 * Appends pack a chunk of records into one buffer ([u16 key bytes][u32 value bytes][key][value]…) and
 * a Lua script XADDs them as entries `1-* <key> <value>` (the key is the field name): the id's
 * sequence part is a per-partition counter, so offsets are plain integers, and a chunk gets
 * consecutive offsets because a script runs atomically. One script call per ~2,000 records measured
 * ~2.5× faster than one pipelined XADD per record through ioredis.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { PctrError, errorMessage } from '../../core/index.ts';
import type { AppendRecord, LogRecord } from '../event-log.ts';

export const APPEND_SCRIPT = `
local data = ARGV[2]
local maxlen = tonumber(ARGV[1])
local pos, len, first = 1, #data, nil
while pos <= len do
  local kl, vl, p = struct.unpack('<I2I4', data, pos)
  local k = string.sub(data, p, p + kl - 1)
  local v = string.sub(data, p + kl, p + kl + vl - 1)
  pos = p + kl + vl
  local id
  if maxlen > 0 then
    id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', maxlen, '1-*', k, v)
  else
    id = redis.call('XADD', KEYS[1], '1-*', k, v)
  end
  if first == nil then first = id end
end
return first`;

/** Records per script call: large enough to amortise the call, small enough not to stall Redis. */
export const APPEND_CHUNK = 2000;

export interface RedisWithAppend extends Redis {
  xappend(key: string, maxLen: number, packed: Buffer): Promise<string>;
}

export function connect(url: string, name: string): RedisWithAppend {
  const opts: RedisOptions = {
    lazyConnect: true,
    connectionName: name,
    maxRetriesPerRequest: 1,
    connectTimeout: 3000,
    retryStrategy: (times) => Math.min(50 * times, 1000),
  };
  const r = new Redis(url, opts) as RedisWithAppend;
  r.defineCommand('xappend', { numberOfKeys: 1, lua: APPEND_SCRIPT });
  // Connection errors surface on the calls that fail; the event only needs a listener.
  r.on('error', () => undefined);
  return r;
}

/** Wrap an ioredis error (or a rejected reply) as PCTR_BACKEND_UNAVAILABLE naming the call and the server. */
export function redisError(err: unknown, what: string, where: string): PctrError {
  if (err instanceof PctrError) return err;
  const msg = errorMessage(err);
  const down = /max retries|connection is closed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|writeable/i.test(msg);
  return new PctrError('PCTR_BACKEND_UNAVAILABLE', down ? `event log redis ${where} is unreachable (${what}): ${msg}` : `event log redis ${where}: ${what} failed: ${msg}`, { cause: err });
}

export class Keys {
  constructor(readonly prefix: string) {}
  /** Layout of the log under this prefix (partitions per topic). */
  meta(): string {
    return `${this.prefix}:~meta`;
  }
  stream(topic: string, p: number): string {
    return `${this.prefix}:${topic}:${p}`;
  }
  /** Committed offsets of a group (or transactional id) for a topic: hash partition → next offset. */
  offsets(group: string, topic: string): string {
    return `${this.prefix}:~offsets:${group}:${topic}`;
  }
  /** Checkpoint of a transactional id's partition: `in:<topic>` → next offset, `state` → blob. */
  checkpoint(id: string, p: number): string {
    return `${this.prefix}:~tx:${id}:${p}`;
  }
  /** Fencing epoch of a transactional id's partition, bumped by every restore. */
  epoch(id: string, p: number): string {
    return `${this.prefix}:~tx:${id}:${p}:epoch`;
  }
}

/** `1-<seq>` → seq. */
export function offsetOf(id: string): number {
  return Number(id.slice(id.indexOf('-') + 1));
}

/** The stream id after which reading resumes to deliver `offset` next. */
export function afterId(offset: number): string {
  return offset <= 0 ? '0-0' : `1-${offset - 1}`;
}

/** Pack records `idx[start .. start+count)` for the append script. */
export function packRecords(records: readonly AppendRecord[], idx: Int32Array, start: number, count: number, scratch: { buf: Buffer }): Buffer {
  let bound = 0;
  for (let k = 0; k < count; k++) {
    const r = records[idx[start + k]];
    bound += 6 + 3 * (r.key.length + r.value.length);
  }
  if (scratch.buf.length < bound) scratch.buf = Buffer.allocUnsafe(Math.max(bound, scratch.buf.length * 2));
  const buf = scratch.buf;
  let pos = 0;
  for (let k = 0; k < count; k++) {
    const r = records[idx[start + k]];
    const kl = buf.write(r.key, pos + 6, 'utf8');
    const vl = buf.write(r.value, pos + 6 + kl, 'utf8');
    if (kl > 0xffff) throw new PctrError('PCTR_VALIDATION', `record key is ${kl} bytes; at most 65535`);
    buf.writeUInt16LE(kl, pos);
    buf.writeUInt32LE(vl, pos + 2);
    pos += 6 + kl + vl;
  }
  return Buffer.from(buf.subarray(0, pos));
}

/**
 * Stream entries → records. An entry is `[id, [key, value]]`: the record's key is the field name,
 * which keeps the reply to four items per record (ioredis' decoder dominates read cost). Entries
 * trimmed while pending come back with null fields and are skipped.
 */
export function toRecords(topic: string, partition: number, entries: readonly [string, string[] | null][], out: LogRecord[]): void {
  for (const [id, fields] of entries) {
    if (!fields) continue;
    out.push({ topic, partition, offset: offsetOf(id), key: fields[0], value: fields[1] });
  }
}
