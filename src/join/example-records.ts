/**
 * The labeled examples of one checkpoint interval, held as references to their impressions' bytes
 * plus the label until the commit: the log asks each record to write its value (`ValueWriters`) and
 * the example is assembled once, straight into the log's write buffer. Built into a buffer here first,
 * every example's ~400 bytes were copied twice, both times cold (a second of output is tens of MB).
 * An impression not in the common compact shape is labeled through JSON at once and kept as text.
 */
import type { AppendRecord, ValueWriters } from '../events/index.ts';
import { compactClose, compactExampleBytes, slowExampleText, writeCompactExample } from './record-text.ts';

/** Kinds of entry: a compact impression with label 0 or 1, or a finished example's bytes. */
const NEGATIVE = 0;
const POSITIVE = 1;
const RAW = 2;

export class ExampleRecords implements ValueWriters {
  private keys: string[] = [];
  private bufs: Buffer[] = [];
  private starts: Int32Array;
  /** Compact: the impression's closing brace; raw: the end of the bytes. */
  private ends: Int32Array;
  private kinds: Uint8Array;
  private clickTs: Float64Array;
  private n = 0;

  constructor(capacity = 1024) {
    this.starts = new Int32Array(capacity);
    this.ends = new Int32Array(capacity);
    this.kinds = new Uint8Array(capacity);
    this.clickTs = new Float64Array(capacity);
  }

  get length(): number {
    return this.n;
  }

  /** Add the example of the impression `bytes[start, end)` (kept by reference); false when it is not an impression. */
  add(key: string, bytes: Buffer, start: number, end: number, label: 0 | 1, clickTs: number | null): boolean {
    const close = compactClose(bytes, start, end);
    if (close >= 0) {
      this.push(key, bytes, start, close, label === 1 ? POSITIVE : NEGATIVE, clickTs ?? NaN);
      return true;
    }
    const text = slowExampleText(bytes.toString('utf8', start, end), label, clickTs);
    if (text === null) return false;
    const raw = Buffer.from(text);
    this.push(key, raw, 0, raw.length, RAW, NaN);
    return true;
  }

  key(i: number): string {
    return this.keys[i];
  }

  maxValueBytes(i: number): number {
    return this.kinds[i] === RAW ? this.ends[i] - this.starts[i] : compactExampleBytes(this.starts[i], this.ends[i]);
  }

  writeValue(i: number, buf: Buffer, pos: number): number {
    const kind = this.kinds[i];
    if (kind === RAW) return pos + this.bufs[i].copy(buf, pos, this.starts[i], this.ends[i]);
    const ts = this.clickTs[i];
    return writeCompactExample(this.bufs[i], this.starts[i], this.ends[i], kind === POSITIVE ? 1 : 0, Number.isNaN(ts) ? null : ts, buf, pos);
  }

  /** Value i as text (readers of the outputs: tests, benchmarks). */
  value(i: number): string {
    const buf = Buffer.allocUnsafe(this.maxValueBytes(i));
    return buf.toString('utf8', 0, this.writeValue(i, buf, 0));
  }

  toArray(): AppendRecord[] {
    return Array.from({ length: this.n }, (_, i) => ({ key: this.keys[i], value: this.value(i) }));
  }

  /** Forget the examples (and the impression buffers they held). */
  clear(): void {
    this.keys = [];
    this.bufs = [];
    this.n = 0;
  }

  private push(key: string, buf: Buffer, start: number, end: number, kind: number, clickTs: number): void {
    if (this.n === this.kinds.length) this.grow();
    const i = this.n++;
    this.keys.push(key);
    this.bufs.push(buf);
    this.starts[i] = start;
    this.ends[i] = end;
    this.kinds[i] = kind;
    this.clickTs[i] = clickTs;
  }

  private grow(): void {
    const c = 2 * this.kinds.length;
    const starts = new Int32Array(c);
    const ends = new Int32Array(c);
    const kinds = new Uint8Array(c);
    const clickTs = new Float64Array(c);
    starts.set(this.starts);
    ends.set(this.ends);
    kinds.set(this.kinds);
    clickTs.set(this.clickTs);
    this.starts = starts;
    this.ends = ends;
    this.kinds = kinds;
    this.clickTs = clickTs;
  }
}
