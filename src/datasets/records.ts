/**
 * Row records of a data file with their raw values (strings and numbers, not hashes), for replaying
 * a data set as an event stream, where the features as served must keep their original values. Not
 * the training path (that is DatasetReader's columnar parse); malformed lines are counted and skipped
 * the same way, and a truncated gzip file ends with PCTR_FILE_TRUNCATED after the good rows.
 */
import { PctrError } from '../core/index.ts';
import { lineBlocks, openByteSource, translateReadError } from './byte-source.ts';
import type { ReadReport } from './reader.ts';

export interface DatasetRecord {
  /** 0-based data-line number (after any header). */
  readonly index: number;
  readonly label: 0 | 1;
  /** Event time from the file (Avazu's hour, epoch ms), null where the format has none (Criteo). */
  readonly ts: number | null;
  /** The row's own id where the format has one (Avazu `id`). */
  readonly id: string | null;
  /** Raw values by column name; missing values are left out. */
  readonly fields: Record<string, string | number>;
}

type RecordParser = (line: string, index: number) => DatasetRecord | string;

const CRITEO_NUMERIC = Array.from({ length: 13 }, (_, i) => `I${i + 1}`);
const CRITEO_CATEGORICAL = Array.from({ length: 26 }, (_, i) => `C${i + 1}`);

function parseCriteo(line: string, index: number): DatasetRecord | string {
  const parts = line.split('\t');
  if (parts.length !== 40) return `expected 40 tab-separated fields, found ${parts.length}`;
  if (parts[0] !== '0' && parts[0] !== '1') return `label must be 0 or 1, found "${parts[0].slice(0, 20)}"`;
  const fields: Record<string, string | number> = {};
  for (let k = 0; k < 13; k++) {
    const v = parts[1 + k];
    if (v === '') continue;
    const n = Number(v);
    if (!Number.isFinite(n)) return `${CRITEO_NUMERIC[k]} is not a number: "${v.slice(0, 20)}"`;
    fields[CRITEO_NUMERIC[k]] = n;
  }
  for (let k = 0; k < 26; k++) {
    const v = parts[14 + k];
    if (v !== '') fields[CRITEO_CATEGORICAL[k]] = v;
  }
  return { index, label: parts[0] === '1' ? 1 : 0, ts: null, id: null, fields };
}

function avazuParser(header: string, path: string): RecordParser {
  const names = header.split(',').map((s) => s.trim());
  for (const required of ['id', 'click', 'hour']) {
    if (!names.includes(required)) throw new PctrError('PCTR_DATA_INVALID', `${path} is not an Avazu CSV: its header lacks ${required}`);
  }
  return (line, index) => {
    const parts = line.split(',');
    if (parts.length !== names.length) return `expected ${names.length} comma-separated fields, found ${parts.length}`;
    const fields: Record<string, string | number> = {};
    let label: 0 | 1 = 0;
    let ts = 0;
    let id = '';
    for (let i = 0; i < names.length; i++) {
      const name = names[i];
      const v = parts[i];
      if (name === 'click') {
        if (v !== '0' && v !== '1') return `click must be 0 or 1, found "${v.slice(0, 20)}"`;
        label = v === '1' ? 1 : 0;
      } else if (name === 'hour') {
        const m = /^(\d\d)(\d\d)(\d\d)(\d\d)$/.exec(v);
        if (!m) return `hour must be YYMMDDHH, found "${v.slice(0, 20)}"`;
        ts = Date.UTC(2000 + Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]));
        if (!Number.isFinite(ts) || Number(m[4]) > 23) return `hour must be YYMMDDHH, found "${v}"`;
      } else if (name === 'id') {
        id = v;
      } else if (v !== '') {
        fields[name] = v;
      }
    }
    return { index, label, ts, id, fields };
  };
}

/** Raw-valued records of a Criteo or Avazu file, in batches, with a report of malformed lines. */
export class RecordReader implements AsyncIterable<DatasetRecord[]> {
  readonly report: ReadReport = { rows: 0, malformed: 0, firstErrors: [] };
  private progressOf: () => number = () => 0;

  constructor(
    readonly kind: 'criteo' | 'avazu',
    readonly path: string,
    private readonly opts: { batchSize?: number; limit?: number; keepErrors?: number } = {},
  ) {}

  progress(): number {
    return this.progressOf();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<DatasetRecord[]> {
    const src = await openByteSource(this.path);
    this.progressOf = () => src.progress();
    const batchSize = Math.max(1, this.opts.batchSize ?? 4096);
    const limit = this.opts.limit ?? Infinity;
    const keep = this.opts.keepErrors ?? 10;
    const report = this.report;
    let parse: RecordParser | null = this.kind === 'criteo' ? parseCriteo : null;
    let batch: DatasetRecord[] = [];
    let fileLine = 0;
    let dataLine = 0;
    let failure: unknown = null;
    try {
      outer: for await (const buf of lineBlocks(src.chunks)) {
        for (const raw of buf.toString('utf8').split('\n')) {
          const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
          if (text === '') continue;
          fileLine++;
          if (parse === null) {
            parse = avazuParser(text, this.path);
            continue;
          }
          const r = parse(text, dataLine++);
          if (typeof r === 'string') {
            report.malformed++;
            if (report.firstErrors.length < keep) report.firstErrors.push({ line: fileLine, message: r });
            continue;
          }
          report.rows++;
          batch.push(r);
          if (batch.length === batchSize) {
            yield batch;
            batch = [];
          }
          if (report.rows >= limit) break outer;
        }
      }
    } catch (e) {
      failure = e;
    }
    if (batch.length > 0) yield batch;
    if (failure !== null) throw translateReadError(failure, this.path, report.rows);
  }
}
