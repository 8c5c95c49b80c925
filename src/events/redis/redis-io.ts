/**
 * Redis plumbing shared by the redis backend: connections (ioredis for control commands, with a
 * short retry budget; RespConnection for the data path), error translation at the boundary, key
 * names, stream-id ↔ offset mapping, and the encoding of appends.
 *
 * A record is a stream entry `1-<seq> <key> <value>` (the key is the field name) added with
 * `XADD <stream> [MAXLEN ~ n] 1-* <key> <value>`: the id's sequence part is a per-partition counter,
 * so offsets are plain integers. Appends are pipelined native XADDs encoded straight into buffers:
 * measured ~2× less Redis CPU than a Lua script looping over XADD, and several times less client
 * CPU than one ioredis command per record.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { PctrError, errorMessage } from '../../core/index.ts';
import type { LogRecord } from '../event-log.ts';
import type { ReadBatch } from '../read-batch.ts';
import type { RecordSource } from '../record-buffer.ts';
import { RespConnection } from './resp-connection.ts';
import { type CommandWriter, type RespReader, encodePrefix } from './resp.ts';

export function connect(url: string, name: string): Redis {
  const opts: RedisOptions = {
    lazyConnect: true,
    connectionName: name,
    maxRetriesPerRequest: 1,
    connectTimeout: 3000,
    retryStrategy: (times) => Math.min(50 * times, 1000),
  };
  const r = new Redis(url, opts);
  // Connection errors surface on the calls that fail; the event only needs a listener.
  r.on('error', () => undefined);
  return r;
}

/** A data-path connection (see RespConnection) to the server of `url`. */
export function dataConnection(url: string, name: string): RespConnection {
  return new RespConnection(new URL(url), name);
}

/** Wrap an ioredis error (or a rejected reply) as PCTR_BACKEND_UNAVAILABLE naming the call and the server. */
export function redisError(err: unknown, what: string, where: string): PctrError {
  if (err instanceof PctrError) return err;
  const msg = errorMessage(err);
  const down = /max retries|connection is closed|ended by the other party|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|writeable/i.test(msg);
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

/**
 * The encoded start of `XADD <stream> [MAXLEN ~ n] 1-*` for every partition stream of a topic, built
 * once per topic; a record's XADD is that prefix followed by its key and value.
 */
export class XaddPrefixes {
  private readonly byTopic = new Map<string, Buffer[]>();

  constructor(
    private readonly keys: Keys,
    private readonly partitions: number,
    private readonly maxLen: number,
  ) {}

  of(topic: string): Buffer[] {
    let list = this.byTopic.get(topic);
    if (!list) {
      list = Array.from({ length: this.partitions }, (_, p) => {
        const stream = this.keys.stream(topic, p);
        return this.maxLen > 0 ? encodePrefix(8, ['XADD', stream, 'MAXLEN', '~', String(this.maxLen), '1-*']) : encodePrefix(5, ['XADD', stream, '1-*']);
      });
      this.byTopic.set(topic, list);
    }
    return list;
  }
}

/** Append `XADD`s of records `idx[start, start + count)` of `src` (all of one partition's stream) to `w`. */
export function writeXadds(w: CommandWriter, prefix: Buffer, src: RecordSource, idx: Int32Array, start: number, count: number): void {
  for (let k = start; k < start + count; k++) w.prefixed(prefix).record(src, idx[k]);
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

/** A record read from a stream. */
export class StreamRecord implements LogRecord {
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly offset: number,
    readonly key: string,
    readonly value: string,
  ) {}
}

/** Where stream entries go: decoded records, or an EncodedBatch (values left as spans of the reply). */
export interface EntrySink {
  readonly length: number;
  /** Read one entry's key and value (the reader is at the key). */
  take(r: RespReader, topicIndex: number, topic: string, partition: number, offset: number): void;
}

export class RecordEntries implements EntrySink {
  constructor(readonly records: LogRecord[]) {}

  get length(): number {
    return this.records.length;
  }

  take(r: RespReader, _topicIndex: number, topic: string, partition: number, offset: number): void {
    const key = r.bulk() as string;
    this.records.push(new StreamRecord(topic, partition, offset, key, r.bulk() as string));
  }
}

export class BytesEntries implements EntrySink {
  constructor(readonly batch: ReadBatch) {}

  get length(): number {
    return this.batch.length;
  }

  take(r: RespReader, topicIndex: number, _topic: string, partition: number, offset: number): void {
    const key = r.bulk() as string;
    const start = r.bulkSpan();
    this.batch.push(topicIndex, partition, offset, key, r.buf, start, r.spanEnd);
  }
}

/**
 * Read `n` stream entries `[id, [key, value]]` of one partition (an XREAD or XRANGE reply) into
 * `out`, taking none past `max` records; returns how many were taken and the offset after the last.
 */
export function readEntries(r: RespReader, n: number, stream: { topicIndex: number; topic: string; partition: number }, out: EntrySink, max: number): { taken: number; next: number } {
  let taken = 0;
  let next = -1;
  for (let e = 0; e < n; e++) {
    if (out.length >= max) {
      r.skip();
      continue;
    }
    r.array();
    const seq = r.streamSeq();
    const fields = r.array();
    // An entry trimmed while pending has no fields; one written by another tool may have more than one pair.
    if (fields < 2) {
      for (let f = 0; f < fields; f++) r.skip();
      continue;
    }
    out.take(r, stream.topicIndex, stream.topic, stream.partition, seq);
    for (let f = 2; f < fields; f++) r.skip();
    taken++;
    next = seq + 1;
  }
  return { taken, next };
}
