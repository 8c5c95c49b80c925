import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers/services.ts';
import { isPctrError } from '../../core/index.ts';
import { auc } from '../../models/index.ts';
import { AVAZU_HEADER } from './avazu.ts';
import { exportDataset } from './export-dataset.ts';

const tmp = tempDir('sim-export');
afterAll(() => tmp.remove());

function lines(path: string): string[] {
  const raw = readFileSync(path);
  const text = (path.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text.slice(0, -1).split('\n');
}

/** label, I1..I13 (integers, maybe empty), C1..C26 (8 hex digits, maybe empty). */
const CRITEO_ROW = /^[01](\t(-?\d+)?){13}(\t([0-9a-f]{8})?){26}$/;
const HEX = '[0-9a-f]{8}';
/** id, click, hour, C1, banner_pos, 3 site + 3 app + 3 device hex fields, device_type, conn_type, C14..C19, C20 (maybe -1), C21. */
const AVAZU_ROW = new RegExp(`^\\d{19},[01],\\d{8},\\d+,\\d+(,${HEX}){9}(,\\d+){8},-?\\d+,\\d+$`);

describe('exportDataset', () => {
  it('writes Criteo DAC TSV: label, 13 counts, 26 hex categoricals, empty when missing, no header', async () => {
    const out = join(tmp.dir, 'criteo.tsv');
    const oracleOut = join(tmp.dir, 'criteo.oracle');
    const summary = await exportDataset({ format: 'criteo', rows: 40_000, out, oracleOut, seed: 3 });
    const rows = lines(out);
    expect(rows).toHaveLength(40_000);
    const labels = new Uint8Array(rows.length);
    const missing = new Array(40).fill(0);
    expect(rows.filter((row) => !CRITEO_ROW.test(row))).toEqual([]);
    rows.forEach((row, r) => {
      const f = row.split('\t');
      labels[r] = Number(f[0]);
      f.forEach((v, j) => (missing[j] += v === '' ? 1 : 0));
    });
    // Some fields are often empty (I12 ~77 %, C22 ~76 %), others never (I2, C1).
    expect(missing[12] / rows.length).toBeGreaterThan(0.7);
    expect(missing[13 + 22] / rows.length).toBeGreaterThan(0.7);
    expect(missing[2]).toBe(0);
    expect(missing[14]).toBe(0);
    // Zipf-like: the most frequent C1 value is common, and C3 has a long tail of distinct values.
    const c3 = new Set(rows.map((r) => r.split('\t')[16]));
    expect(c3.size).toBeGreaterThan(5000);

    const positives = labels.reduce((a, b) => a + b, 0);
    expect(summary.positives).toBe(positives);
    expect(summary.rate).toBeCloseTo(0.22, 1);
    expect(Math.abs(summary.meanOracleCtr - 0.22)).toBeLessThan(0.01);
    const oracle = Float64Array.from(lines(oracleOut), Number);
    expect(oracle).toHaveLength(rows.length);
    expect(oracle.every((p) => p > 0 && p < 1)).toBe(true);
    const oracleAuc = auc(oracle, labels);
    expect(oracleAuc).toBeGreaterThan(0.75);
    expect(oracleAuc).toBeLessThan(0.9);
  });

  it('writes Avazu CSV with its header, 24 columns, unique ids, YYMMDDHH hours in order, and the site/app split', async () => {
    const out = join(tmp.dir, 'avazu.csv.gz');
    const summary = await exportDataset({ format: 'avazu', rows: 30_000, out, seed: 4, days: 2, baseCtr: 0.1 });
    const [header, ...rows] = lines(out);
    expect(header).toBe(AVAZU_HEADER);
    expect(rows).toHaveLength(30_000);
    const ids = new Set<string>();
    let clicks = 0;
    let apps = 0;
    let lastHour = '';
    expect(rows.filter((row) => !AVAZU_ROW.test(row))).toEqual([]);
    let bad = 0;
    for (const row of rows) {
      const f = row.split(',');
      ids.add(f[0]);
      clicks += Number(f[1]);
      if (f[2] < lastHour || !/^1410(2[12])([01]\d|2[0-3])$/.test(f[2])) bad++;
      lastHour = f[2];
      // Exactly one of site and app is real; the other is the data set's "null" triple.
      const nullSite = f[5] === '85f751fd';
      const nullApp = f[8] === 'ecad2386';
      if (nullSite === nullApp) bad++;
      apps += nullSite ? 1 : 0;
    }
    expect(bad).toBe(0);
    expect(rows[0].split(',')[2]).toBe('14102100');
    expect(lastHour).toBe('14102223');
    expect(ids.size).toBe(rows.length);
    expect(apps / rows.length).toBeCloseTo(0.36, 1);
    expect(clicks).toBe(summary.positives);
    expect(Math.abs(clicks / rows.length - 0.1)).toBeLessThan(0.01);
  });

  it('is reproducible: the same seed writes the same bytes, another seed other bytes', async () => {
    const write = async (name: string, seed: number) => {
      const out = join(tmp.dir, name);
      await exportDataset({ format: 'criteo', rows: 2000, out, seed });
      return readFileSync(out);
    };
    const a = await write('a.tsv', 9);
    expect((await write('b.tsv', 9)).equals(a)).toBe(true);
    expect((await write('c.tsv', 10)).equals(a)).toBe(false);
  });

  it('names bad options and unwritable outputs', async () => {
    await expect(exportDataset({ format: 'criteo', rows: 0, out: join(tmp.dir, 'x.tsv') })).rejects.toThrow(/rows/);
    await expect(exportDataset({ format: 'parquet' as never, rows: 10, out: join(tmp.dir, 'x.tsv') })).rejects.toThrow(/format/);
    const err = await exportDataset({ format: 'avazu', rows: 10, out: join(tmp.dir, 'no-such-dir', 'x.csv') }).catch((e: unknown) => e);
    expect(isPctrError(err)).toBe(true);
    expect((err as Error).message).toContain('no-such-dir');
  });
});
