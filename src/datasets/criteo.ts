/**
 * Criteo Display Advertising Challenge TSV: `label, I1..I13 (integer counts), C1..C26 (hex hashes)`,
 * 40 tab-separated fields, no header, missing values as empty fields. Rows are in time order but
 * carry no timestamp, so `ts` is the 0-based row number.
 */
import type { FeatureSchema, FieldDef } from '../core/index.ts';
import { scanCategory } from './category-field.ts';
import type { LineFormat, RowSink } from './reader.ts';

const NUMERIC = 13;
const CATEGORICAL = 26;
const FIELDS = 1 + NUMERIC + CATEGORICAL;
const TAB = 9;

export const CRITEO_SCHEMA: FeatureSchema = {
  fields: [
    ...Array.from({ length: NUMERIC }, (_, i): FieldDef => ({ name: `I${i + 1}`, kind: 'numeric' })),
    ...Array.from({ length: CATEGORICAL }, (_, i): FieldDef => ({ name: `C${i + 1}`, kind: 'categorical' })),
  ],
};

function fieldCountError(b: Buffer, start: number, end: number): string {
  let fields = 1;
  for (let i = start; i < end; i++) if (b[i] === TAB) fields++;
  return `expected ${FIELDS} tab-separated fields, found ${fields}`;
}

/** The rare non-integer count (`3.5`, `1e3`), parsed from text; NaN when it is not a number. */
function slowNumber(b: Buffer, start: number, end: number): number {
  const text = b.toString('latin1', start, end).trim();
  return text === '' ? NaN : Number(text);
}

function parseCriteoLine(b: Buffer, start: number, end: number, sink: RowSink, row: number, index: number): string | null {
  const label = b[start];
  if ((label !== 48 && label !== 49) || start + 1 >= end || b[start + 1] !== TAB) {
    const tab = b.indexOf(TAB, start);
    const text = b.toString('latin1', start, tab < 0 || tab > end ? end : tab);
    return `label must be 0 or 1, found "${text.slice(0, 20)}"`;
  }
  sink.labels[row] = label - 48;
  sink.ts[row] = index;
  let p = start + 2;
  const num = sink.num;
  for (let k = 0; k < NUMERIC; k++) {
    let q = p;
    let c = q < end ? b[q] : TAB;
    let value: number;
    if (c === TAB) {
      value = NaN;
    } else {
      const negative = c === 45;
      if (negative) q++;
      let v = 0;
      const digitsFrom = q;
      while (q < end && (c = b[q]) >= 48 && c <= 57) {
        v = v * 10 + (c - 48);
        q++;
      }
      if (q < end && b[q] !== TAB) {
        while (q < end && b[q] !== TAB) q++;
        value = slowNumber(b, p, q);
        if (!Number.isFinite(value)) return `I${k + 1} is not a number: "${b.toString('latin1', p, Math.min(q, p + 20))}"`;
      } else if (q === digitsFrom) {
        return `I${k + 1} is not a number: "${b.toString('latin1', p, q)}"`;
      } else {
        value = negative ? -v : v;
      }
    }
    num[k][row] = value;
    if (q >= end) return fieldCountError(b, start, end);
    p = q + 1;
  }
  const cat = sink.cat;
  for (let k = 0; k < CATEGORICAL; k++) {
    const q = scanCategory(b, p, end, TAB, cat[k], row);
    if (k < CATEGORICAL - 1) {
      if (q >= end) return fieldCountError(b, start, end);
      p = q + 1;
    } else if (q !== end) {
      return fieldCountError(b, start, end);
    }
  }
  return null;
}

export const CRITEO_FORMAT: LineFormat = {
  name: 'criteo',
  schema: CRITEO_SCHEMA,
  hasHeader: false,
  parser: () => parseCriteoLine,
};
