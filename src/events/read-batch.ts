/**
 * `ReadBatch`: the EncodedBatch the backends fill as they read — per record its topic index,
 * partition, offset and key, and its value as a span of a buffer the batch owns (a file window or a
 * copy of a Redis reply), in typed-array columns so a record costs no object.
 */
import type { EncodedBatch } from './event-log.ts';

const NO_OFFSETS: ReadonlyMap<number, number> = new Map();

const SHORT_TEXT_BYTES = 32;
/** Reused argument lists for String.fromCharCode, one per length. */
const CHAR_CODES = Array.from({ length: SHORT_TEXT_BYTES + 1 }, (_, n) => new Array<number>(n).fill(0));

/**
 * `buf[start, end)` as UTF-8 text. Record keys are short ASCII ids, which String.fromCharCode over
 * their bytes decodes in about half the time of a native decode call; anything else takes that call.
 */
export function decodeText(buf: Buffer, start: number, end: number): string {
  const n = end - start;
  if (n > SHORT_TEXT_BYTES) return buf.toString('utf8', start, end);
  const codes = CHAR_CODES[n];
  for (let k = 0; k < n; k++) {
    const c = buf[start + k];
    if (c >= 0x80) return buf.toString('utf8', start, end);
    codes[k] = c;
  }
  return String.fromCharCode.apply(null, codes);
}

/**
 * The capacity to give the next batch of a consumer whose last poll returned `last` records, for at
 * most `max`: a little more than last time. A poll near the live edge often returns a few records,
 * and allocating a full poll's columns for each would be most of its cost (external memory that also
 * drives V8 into full GCs), while a consumer behind gets full batches without growing them each time.
 */
export function expectedRecords(last: number, max: number): number {
  return Math.min(max, last + (last >> 2) + 16);
}

export class ReadBatch implements EncodedBatch {
  nextOffsets: ReadonlyMap<number, number> = NO_OFFSETS;
  nextOffsetsByTopic: ReadonlyMap<string, ReadonlyMap<number, number>> = new Map();
  private keys: string[] = [];
  private bufs: Buffer[] = [];
  private starts: Int32Array;
  private ends: Int32Array;
  private topics: Uint8Array;
  private partitions: Int32Array;
  private offsets: Float64Array;
  private n = 0;

  /** Columns start `capacity` long (see `expectedRecords`) and grow as records come. */
  constructor(capacity = 1024) {
    const c = Math.max(16, capacity);
    this.starts = new Int32Array(c);
    this.ends = new Int32Array(c);
    this.topics = new Uint8Array(c);
    this.partitions = new Int32Array(c);
    this.offsets = new Float64Array(c);
  }

  get length(): number {
    return this.n;
  }

  push(topicIndex: number, partition: number, offset: number, key: string, buf: Buffer, start: number, end: number): void {
    if (this.n === this.offsets.length) this.grow();
    const i = this.n++;
    this.topics[i] = topicIndex;
    this.partitions[i] = partition;
    this.offsets[i] = offset;
    this.keys.push(key);
    this.bufs.push(buf);
    this.starts[i] = start;
    this.ends[i] = end;
  }

  key(i: number): string {
    return this.keys[i];
  }

  bytes(i: number): Buffer {
    return this.bufs[i];
  }

  start(i: number): number {
    return this.starts[i];
  }

  end(i: number): number {
    return this.ends[i];
  }

  topicIndex(i: number): number {
    return this.topics[i];
  }

  partition(i: number): number {
    return this.partitions[i];
  }

  offset(i: number): number {
    return this.offsets[i];
  }

  /** Value i as text. */
  value(i: number): string {
    return this.bufs[i].toString('utf8', this.starts[i], this.ends[i]);
  }

  /** The offsets to resume from, per topic (`firstTopic`'s are also `nextOffsets`). */
  setNext(byTopic: ReadonlyMap<string, ReadonlyMap<number, number>>, firstTopic: string): void {
    this.nextOffsetsByTopic = byTopic;
    this.nextOffsets = byTopic.get(firstTopic) ?? NO_OFFSETS;
  }

  private grow(): void {
    const c = 2 * this.offsets.length;
    const grown = <T extends Int32Array | Uint8Array | Float64Array>(a: T, b: T): T => {
      b.set(a);
      return b;
    };
    this.starts = grown(this.starts, new Int32Array(c));
    this.ends = grown(this.ends, new Int32Array(c));
    this.topics = grown(this.topics, new Uint8Array(c));
    this.partitions = grown(this.partitions, new Int32Array(c));
    this.offsets = grown(this.offsets, new Float64Array(c));
  }
}
