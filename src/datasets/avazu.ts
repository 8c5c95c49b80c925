/**
 * Avazu CTR CSV with a header: `id, click, hour (YYMMDDHH, UTC), C1, banner_pos, site_*, app_*,
 * device_*, C14..C21`. `id` is dropped (unique per row, no signal); `hour` becomes the event time
 * (`ts`) and two categoricals, hour of day and day of week; every other column is categorical.
 * Columns are matched by header name, so their order in the file does not matter.
 */
import { hashCategory, PctrError } from '../core/index.ts';
import type { FeatureSchema } from '../core/index.ts';
import { scanCategory } from './category-field.ts';
import type { LineFormat, LineParser, RowSink } from './reader.ts';

const COMMA = 44;

/** Categorical columns read as they are, in schema order after hour_of_day and day_of_week. */
const PLAIN_COLUMNS = [
  'C1', 'banner_pos', 'site_id', 'site_domain', 'site_category', 'app_id', 'app_domain', 'app_category',
  'device_id', 'device_ip', 'device_model', 'device_type', 'device_conn_type',
  'C14', 'C15', 'C16', 'C17', 'C18', 'C19', 'C20', 'C21',
];

export const AVAZU_SCHEMA: FeatureSchema = {
  fields: ['hour_of_day', 'day_of_week', ...PLAIN_COLUMNS].map((name) => ({ name, kind: 'categorical' as const })),
};

const HOUR_OF_DAY = Int32Array.from({ length: 24 }, (_, h) => hashCategory(String(h)));
const DAY_OF_WEEK = Int32Array.from(['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'], (d) => hashCategory(d));

const SKIP = -1;
const CLICK = -2;
const HOUR = -3;

function roles(header: string, path: string): Int32Array {
  const names = header.split(',').map((s) => s.trim());
  const out = new Int32Array(names.length).fill(SKIP);
  const missing = new Set(['click', 'hour', ...PLAIN_COLUMNS]);
  names.forEach((name, i) => {
    missing.delete(name);
    if (name === 'click') out[i] = CLICK;
    else if (name === 'hour') out[i] = HOUR;
    else if (PLAIN_COLUMNS.includes(name)) out[i] = 2 + PLAIN_COLUMNS.indexOf(name);
  });
  if (missing.size > 0) {
    throw new PctrError('PCTR_DATA_INVALID', `${path} is not an Avazu CSV: its header lacks ${[...missing].join(', ')}`, {
      details: { path, missing: [...missing] },
    });
  }
  return out;
}

function avazuParser(header: string | null, path: string): LineParser {
  const role = roles(header ?? '', path);
  const columns = role.length;
  // Rows come sorted by hour, so the date arithmetic runs once per hour, not once per row.
  let lastHour = -1;
  let lastTs = 0;
  let lastHourHash = 0;
  let lastDayHash = 0;

  return (b: Buffer, start: number, end: number, sink: RowSink, row: number): string | null => {
    const cat = sink.cat;
    let p = start;
    for (let c = 0; c < columns; c++) {
      const r = role[c];
      let q = p;
      if (r >= 0) {
        q = scanCategory(b, p, end, COMMA, cat[r], row);
      } else {
        while (q < end && b[q] !== COMMA) q++;
      }
      if (c < columns - 1 && q >= end) return `expected ${columns} comma-separated fields, found ${c + 1}`;
      if (r === CLICK) {
        const v = b[p];
        if (q !== p + 1 || (v !== 48 && v !== 49)) return `click must be 0 or 1, found "${b.toString('latin1', p, Math.min(q, p + 20))}"`;
        sink.labels[row] = v - 48;
      } else if (r === HOUR) {
        let hour = 0;
        for (let i = p; i < q; i++) {
          const d = b[i] - 48;
          if (d < 0 || d > 9) return `hour must be YYMMDDHH, found "${b.toString('latin1', p, Math.min(q, p + 20))}"`;
          hour = hour * 10 + d;
        }
        if (q - p !== 8) return `hour must be YYMMDDHH, found "${b.toString('latin1', p, q)}"`;
        if (hour !== lastHour) {
          const hh = hour % 100;
          const dd = Math.floor(hour / 100) % 100;
          const mm = Math.floor(hour / 1e4) % 100;
          if (hh > 23 || dd < 1 || dd > 31 || mm < 1 || mm > 12) return `hour must be YYMMDDHH, found "${b.toString('latin1', p, q)}"`;
          const ts = Date.UTC(2000 + Math.floor(hour / 1e6), mm - 1, dd, hh);
          lastHour = hour;
          lastTs = ts;
          lastHourHash = HOUR_OF_DAY[hh];
          lastDayHash = DAY_OF_WEEK[new Date(ts).getUTCDay()];
        }
        sink.ts[row] = lastTs;
        cat[0][row] = lastHourHash;
        cat[1][row] = lastDayHash;
      }
      p = q + 1;
    }
    if (p <= end) return `expected ${columns} comma-separated fields, found more`;
    return null;
  };
}

export const AVAZU_FORMAT: LineFormat = {
  name: 'avazu',
  schema: AVAZU_SCHEMA,
  hasHeader: true,
  parser: avazuParser,
};
