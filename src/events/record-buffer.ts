/**
 * Building records as bytes: `RecordBuffer` collects keys and UTF-8 values in chunked buffers
 * (the `EncodedRecords` a transactional commit accepts), so a producer that assembles values from
 * pieces writes each value once, with no string per record and no second encoding by the log.
 * `RecordSource` gives the backends one way to read any form of records.
 */
import type { AppendRecord, EncodedRecords, ValueWriters } from './event-log.ts';

/** Default chunk size: values go into chunks of this size (a larger value gets a chunk of its own). */
const CHUNK_BYTES = 1 << 20;

export class RecordBuffer implements EncodedRecords {
  /** Chunks in use up to `chunk`; those after it are spares from before a `clear`. */
  private chunks: Buffer[];
  private chunk = 0;
  /** Bytes of the current chunk in use: the next value is written here. */
  used = 0;
  private keys: string[] = [];
  private chunkOf: Int32Array;
  private starts: Float64Array;
  private ends: Float64Array;
  private n = 0;

  constructor(
    private readonly chunkBytes = CHUNK_BYTES,
    records = 256,
  ) {
    this.chunks = [Buffer.allocUnsafe(chunkBytes)];
    this.chunkOf = new Int32Array(records);
    this.starts = new Float64Array(records);
    this.ends = new Float64Array(records);
  }

  get length(): number {
    return this.n;
  }

  key(i: number): string {
    return this.keys[i];
  }

  bytes(i: number): Buffer {
    return this.chunks[this.chunkOf[i]];
  }

  start(i: number): number {
    return this.starts[i];
  }

  end(i: number): number {
    return this.ends[i];
  }

  /** Value i as text (for readers of the outputs: tests, benchmarks, slow paths). */
  value(i: number): string {
    return this.bytes(i).toString('utf8', this.starts[i], this.ends[i]);
  }

  /** Append a record with a text value. */
  add(key: string, value: string): void {
    const buf = this.reserve(3 * value.length);
    this.push(key, this.used + buf.write(value, this.used));
  }

  /**
   * Room for `bytes` more bytes at `used`; returns the buffer to write them into. Filled chunks are
   * kept as they are (no copying), and the next one is a spare from before `clear` when it is big enough.
   */
  reserve(bytes: number): Buffer {
    const cur = this.chunks[this.chunk];
    if (this.used + bytes <= cur.length) return cur;
    this.chunk++;
    this.used = 0;
    const next = this.chunks[this.chunk];
    if (next !== undefined && next.length >= bytes) return next;
    const fresh = Buffer.allocUnsafe(Math.max(this.chunkBytes, bytes));
    // A spare too small for this value gives its place to the new chunk (the rest stay in order).
    if (next !== undefined) this.chunks[this.chunk] = fresh;
    else this.chunks.push(fresh);
    return fresh;
  }

  /** Close a record whose value was written to `[used, end)` of the buffer `reserve` returned. */
  push(key: string, end: number): void {
    if (this.n === this.ends.length) this.growIndex();
    this.keys.push(key);
    this.chunkOf[this.n] = this.chunk;
    this.starts[this.n] = this.used;
    this.ends[this.n++] = end;
    this.used = end;
  }

  /** The records as text (tests and benchmarks). */
  toArray(): AppendRecord[] {
    return Array.from({ length: this.n }, (_, i) => ({ key: this.keys[i], value: this.value(i) }));
  }

  /** Forget the records; their memory is reused. */
  clear(): void {
    this.keys = [];
    this.n = 0;
    this.chunk = 0;
    this.used = 0;
  }

  private growIndex(): void {
    const size = 2 * this.n;
    const chunkOf = new Int32Array(size);
    const starts = new Float64Array(size);
    const ends = new Float64Array(size);
    chunkOf.set(this.chunkOf);
    starts.set(this.starts);
    ends.set(this.ends);
    this.chunkOf = chunkOf;
    this.starts = starts;
    this.ends = ends;
  }
}

/** Records as the backends read them, whichever form they came in (records that write their own values already are one). */
export type RecordSource = ValueWriters;

class TextRecords implements RecordSource {
  constructor(private readonly records: readonly AppendRecord[]) {}

  get length(): number {
    return this.records.length;
  }

  key(i: number): string {
    return this.records[i].key;
  }

  maxValueBytes(i: number): number {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    return 3 * this.records[i].value.length;
  }

  writeValue(i: number, buf: Buffer, pos: number): number {
    const v = this.records[i].value;
    return v.length === 0 ? pos : pos + buf.write(v, pos);
  }
}

class BytesRecords implements RecordSource {
  constructor(private readonly records: EncodedRecords) {}

  get length(): number {
    return this.records.length;
  }

  key(i: number): string {
    return this.records.key(i);
  }

  maxValueBytes(i: number): number {
    return this.records.end(i) - this.records.start(i);
  }

  writeValue(i: number, buf: Buffer, pos: number): number {
    const r = this.records;
    return copyBytes(r.bytes(i), r.start(i), r.end(i), buf, pos);
  }
}

/**
 * Copy `src[start, end)` to `dst` at `pos`; returns the position after it. Record-sized copies are
 * dominated by per-call cost, and Buffer#copy pays for argument checks and a Buffer view on top of the
 * memmove: a plain Uint8Array view and TypedArray#set halve it; a few bytes are cheaper in a loop.
 */
export function copyBytes(src: Uint8Array, start: number, end: number, dst: Uint8Array, pos: number): number {
  const n = end - start;
  if (n <= 16) {
    for (let k = 0; k < n; k++) dst[pos + k] = src[start + k];
  } else {
    dst.set(new Uint8Array(src.buffer, src.byteOffset + start, n), pos);
  }
  return pos + n;
}

export function recordSource(records: readonly AppendRecord[] | EncodedRecords | ValueWriters): RecordSource {
  if (isText(records)) return new TextRecords(records);
  return 'writeValue' in records ? records : new BytesRecords(records);
}

function isText(records: readonly AppendRecord[] | EncodedRecords | ValueWriters): records is readonly AppendRecord[] {
  return Array.isArray(records);
}
