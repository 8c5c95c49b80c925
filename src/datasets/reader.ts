/**
 * The generic line-file reader: splits the byte stream into lines without decoding it, hands each
 * line to a format's parser that writes straight into typed-array columns, and yields RawBatches.
 * Malformed lines are counted and skipped (the first few kept with their line number); a truncated
 * or corrupt gzip stream ends the read with a PctrError after the good rows have been yielded.
 */
import { allocateColumns, PctrError } from '../core/index.ts';
import type { Column, FeatureSchema, RawBatch } from '../core/index.ts';
import { lineBlocks, openByteSource, translateReadError, type ByteSource } from './byte-source.ts';

/** Where a parser writes one row: per-kind column lists (in schema order within each kind). */
export interface RowSink {
  readonly cat: Int32Array[];
  readonly num: Float32Array[];
  readonly labels: Uint8Array;
  readonly ts: Float64Array;
}

/**
 * Parses one line (bytes[start, end), no line terminator) into row `row` of the sink; `index` is the
 * 0-based data-line number. Returns null when the row is good, else why it is malformed.
 */
export type LineParser = (bytes: Buffer, start: number, end: number, sink: RowSink, row: number, index: number) => string | null;

export interface LineFormat {
  readonly name: string;
  readonly schema: FeatureSchema;
  readonly hasHeader: boolean;
  /** A parser for this file; `header` is its first line when the format has one. */
  parser(header: string | null, path: string): LineParser;
}

/** Data lines [from, to) of a file, numbered from 0 after any header, malformed lines included. */
export interface RowRange {
  readonly from: number;
  readonly to: number;
}

export interface ReadOptions {
  /** Rows per yielded batch (default 8192). */
  readonly batchSize?: number;
  readonly rows?: RowRange;
  /** How many malformed lines to keep in the report (default 10). */
  readonly keepErrors?: number;
}

export interface ReadReport {
  /** Good rows yielded. */
  rows: number;
  malformed: number;
  readonly firstErrors: { line: number; message: string }[];
}

export class DatasetReader implements AsyncIterable<RawBatch> {
  readonly schema: FeatureSchema;
  readonly report: ReadReport = { rows: 0, malformed: 0, firstErrors: [] };
  private source: ByteSource | null = null;
  private started = false;
  private readonly batchSize: number;
  private readonly keepErrors: number;

  constructor(
    readonly path: string,
    private readonly format: LineFormat,
    private readonly opts: ReadOptions = {},
  ) {
    this.schema = format.schema;
    this.batchSize = Math.max(1, opts.batchSize ?? 8192);
    this.keepErrors = opts.keepErrors ?? 10;
  }

  /** Fraction of the file read so far, for progress bars. */
  progress(): number {
    return this.source?.progress() ?? 0;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<RawBatch> {
    if (this.started) throw new PctrError('PCTR_INTERNAL', `a DatasetReader of ${this.path} reads once; open a new reader for another pass`);
    this.started = true;
    const src = await openByteSource(this.path);
    this.source = src;
    const from = this.opts.rows?.from ?? 0;
    const to = this.opts.rows?.to ?? Infinity;
    let parse: LineParser | null = this.format.hasHeader ? null : this.format.parser(null, this.path);
    let sink = this.allocate();
    let n = 0;
    let dataLine = 0;
    let fileLine = 0;
    let failure: unknown = null;
    const report = this.report;

    const line = (buf: Buffer, start: number, end: number): void => {
      if (end > start && buf[end - 1] === 13) end--;
      fileLine++;
      if (parse === null) {
        parse = this.format.parser(buf.toString('utf8', start, end), this.path);
        return;
      }
      const index = dataLine++;
      if (index < from) return;
      const err = end === start ? 'empty line' : parse(buf, start, end, sink, n, index);
      if (err === null) {
        n++;
        report.rows++;
      } else {
        report.malformed++;
        if (report.firstErrors.length < this.keepErrors) report.firstErrors.push({ line: fileLine, message: err });
      }
    };

    try {
      outer: for await (const buf of lineBlocks(src.chunks)) {
        let start = 0;
        while (start < buf.length) {
          const nl = buf.indexOf(10, start);
          const end = nl < 0 ? buf.length : nl;
          line(buf, start, end);
          start = end + 1;
          if (n === this.batchSize) {
            yield this.batch(sink, n);
            sink = this.allocate();
            n = 0;
          }
          if (dataLine >= to) break outer;
        }
      }
    } catch (e) {
      failure = e;
    }
    if (n > 0) yield this.batch(sink, n);
    if (failure !== null) throw translateReadError(failure, this.path, report.rows);
  }

  private allocate(): RowSink & { columns: Column[] } {
    const columns = allocateColumns(this.schema, this.batchSize);
    return {
      columns,
      cat: columns.filter((c): c is Int32Array => c instanceof Int32Array),
      num: columns.filter((c): c is Float32Array => c instanceof Float32Array),
      labels: new Uint8Array(this.batchSize),
      ts: new Float64Array(this.batchSize),
    };
  }

  private batch(sink: RowSink & { columns: Column[] }, n: number): RawBatch {
    const full = n === this.batchSize;
    return {
      n,
      schema: this.schema,
      columns: full ? sink.columns : sink.columns.map((c) => c.subarray(0, n)),
      labels: full ? sink.labels : sink.labels.subarray(0, n),
      ts: full ? sink.ts : sink.ts.subarray(0, n),
    };
  }
}
