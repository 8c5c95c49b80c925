import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { hashCategory, isPctrError } from '../core/index.ts';
import type { RawBatch } from '../core/index.ts';
import { tempDir } from '../../test/helpers/services.ts';
import { CRITEO_SCHEMA, readCriteo, split } from './index.ts';

const line = (label: string, ints: string[], cats: string[]): string => [label, ...ints, ...cats].join('\t');
const ints = (i: number): string[] => Array.from({ length: 13 }, (_, k) => (k === 2 ? '' : String(i * 13 + k)));
const cats = (i: number): string[] => Array.from({ length: 26 }, (_, k) => (k === 5 ? '' : `${(i * 26 + k).toString(16).padStart(8, '0')}`));

async function collect(reader: AsyncIterable<RawBatch>): Promise<RawBatch[]> {
  const out: RawBatch[] = [];
  for await (const b of reader) out.push(b);
  return out;
}

describe('readCriteo', () => {
  const dirs: { remove: () => void }[] = [];
  const file = (name: string, data: string | Buffer): string => {
    const d = tempDir('criteo');
    dirs.push(d);
    const path = join(d.dir, name);
    writeFileSync(path, data);
    return path;
  };
  afterEach(() => dirs.splice(0).forEach((d) => d.remove()));

  it('parses labels, counts (empty = NaN), categories (empty = 0) and row-number times, plain or gzip', async () => {
    const text = `${Array.from({ length: 5 }, (_, i) => line(String(i % 2), ints(i), cats(i))).join('\n')}\n`;
    for (const path of [file('d.tsv', text), file('d.tsv.gz', gzipSync(text))]) {
      const reader = readCriteo(path, { batchSize: 2 });
      const batches = await collect(reader);
      expect(batches.map((b) => b.n)).toEqual([2, 2, 1]);
      expect(reader.report).toEqual({ rows: 5, malformed: 0, firstErrors: [] });
      const b = batches[1];
      expect(b.schema).toBe(CRITEO_SCHEMA);
      expect(Array.from(b.labels!)).toEqual([0, 1]);
      expect(Array.from(b.ts!)).toEqual([2, 3]);
      expect(b.columns[0][0]).toBe(26);
      expect(b.columns[2][0]).toBeNaN();
      expect(b.columns[12][1]).toBe(3 * 13 + 12);
      expect(b.columns[13][0]).toBe(hashCategory((2 * 26).toString(16).padStart(8, '0')));
      expect(b.columns[13 + 5][0]).toBe(0);
      expect(b.columns[13 + 25][1]).toBe(hashCategory((3 * 26 + 25).toString(16).padStart(8, '0')));
    }
  });

  it('reads negative and decimal counts, CRLF endings and a last line without newline', async () => {
    const i = ['-1', '2.5', '1e3', ...Array.from({ length: 10 }, () => '7')];
    const path = file('d.tsv', `${line('1', i, cats(0))}\r\n${line('0', ints(1), cats(1))}`);
    const [b] = await collect(readCriteo(path));
    expect(b.n).toBe(2);
    expect([b.columns[0][0], b.columns[1][0], b.columns[2][0]]).toEqual([-1, 2.5, 1000]);
    expect(b.columns[13 + 25][0]).toBe(hashCategory((25).toString(16).padStart(8, '0')));
  });

  it('counts and skips malformed lines, keeping the first errors with their line numbers', async () => {
    const good = (i: number) => line('0', ints(i), cats(i));
    const rows = [
      good(0),
      line('0', ints(1), cats(1).slice(0, 20)),
      line('2', ints(2), cats(2)),
      line('1', ['x', ...ints(3).slice(1)], cats(3)),
      '',
      `${good(5)}\textra`,
      good(6),
    ];
    const reader = readCriteo(file('bad.tsv', `${rows.join('\n')}\n`));
    const batches = await collect(reader);
    expect(batches.reduce((s, b) => s + b.n, 0)).toBe(2);
    expect(Array.from(batches[0].ts!)).toEqual([0, 6]);
    expect(reader.report.rows).toBe(2);
    expect(reader.report.malformed).toBe(5);
    expect(reader.report.firstErrors).toEqual([
      { line: 2, message: 'expected 40 tab-separated fields, found 34' },
      { line: 3, message: 'label must be 0 or 1, found "2"' },
      { line: 4, message: 'I1 is not a number: "x"' },
      { line: 5, message: 'empty line' },
      { line: 6, message: 'expected 40 tab-separated fields, found 41' },
    ]);
  });

  it('yields the good rows of a truncated gzip file, then stops with PCTR_FILE_TRUNCATED naming the file', async () => {
    const text = `${Array.from({ length: 3000 }, (_, i) => line('0', ints(i), cats(i))).join('\n')}\n`;
    const gz = gzipSync(text);
    const path = file('cut.tsv.gz', gz.subarray(0, Math.floor(gz.length / 2)));
    const reader = readCriteo(path, { batchSize: 500 });
    let rows = 0;
    const err = await (async () => {
      try {
        for await (const b of reader) rows += b.n;
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(isPctrError(err, 'PCTR_FILE_TRUNCATED')).toBe(true);
    expect(rows).toBeGreaterThan(100);
    expect(rows).toBeLessThan(3000);
    expect((err as Error).message).toContain(path);
    expect((err as Error).message).toContain(`${rows} good rows`);
    expect(reader.report.rows).toBe(rows);
  });

  it('names a missing file', async () => {
    await expect(collect(readCriteo('/nonexistent/criteo.tsv'))).rejects.toMatchObject({ code: 'PCTR_NOT_FOUND' });
  });

  it('splits by row order and reads row ranges exactly, malformed lines included in the numbering', async () => {
    const rows = Array.from({ length: 10 }, (_, i) => (i === 3 ? 'garbage' : line(String(i % 2), ints(i), cats(i))));
    const path = file('s.tsv.gz', gzipSync(`${rows.join('\n')}\n`));
    const s = await split(path, { dataset: 'criteo', trainFraction: 0.7 });
    expect(s).toEqual({ rows: 10, train: { from: 0, to: 7 }, test: { from: 7, to: 10 } });
    const train = readCriteo(path, { rows: s.train });
    const test = readCriteo(path, { rows: s.test });
    expect((await collect(train)).flatMap((b) => Array.from(b.ts!))).toEqual([0, 1, 2, 4, 5, 6]);
    expect((await collect(test)).flatMap((b) => Array.from(b.ts!))).toEqual([7, 8, 9]);
    expect(train.report.malformed).toBe(1);
    expect(test.report.malformed).toBe(0);
  });

  it('reads once per reader', async () => {
    const reader = readCriteo(file('d.tsv', `${line('0', ints(0), cats(0))}\n`));
    await collect(reader);
    await expect(collect(reader)).rejects.toMatchObject({ code: 'PCTR_INTERNAL' });
  });
});
