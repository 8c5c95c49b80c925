import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { hashCategory } from '../core/index.ts';
import type { RawBatch } from '../core/index.ts';
import { tempDir } from '../../test/helpers/services.ts';
import { AVAZU_SCHEMA, readAvazu, split } from './index.ts';

const HEADER =
  'id,click,hour,C1,banner_pos,site_id,site_domain,site_category,app_id,app_domain,app_category,device_id,device_ip,device_model,device_type,device_conn_type,C14,C15,C16,C17,C18,C19,C20,C21';

function row(id: string, click: string, hour: string, i: number): string {
  return [id, click, hour, ...Array.from({ length: 21 }, (_, k) => (k === 4 ? '' : `v${i}_${k}`))].join(',');
}

async function collect(reader: AsyncIterable<RawBatch>): Promise<RawBatch[]> {
  const out: RawBatch[] = [];
  for await (const b of reader) out.push(b);
  return out;
}

const column = (b: RawBatch, name: string) => b.columns[AVAZU_SCHEMA.fields.findIndex((f) => f.name === name)];

describe('readAvazu', () => {
  const dirs: { remove: () => void }[] = [];
  const file = (data: string | Buffer): string => {
    const d = tempDir('avazu');
    dirs.push(d);
    const path = join(d.dir, 'train.csv.gz');
    writeFileSync(path, data);
    return path;
  };
  afterEach(() => dirs.splice(0).forEach((d) => d.remove()));

  it('drops id, turns hour into event time, hour of day and day of week, and hashes the other columns', async () => {
    const text = [HEADER, row('10000174058809263569', '1', '14102100', 0), row('2', '0', '14102513', 1)].join('\n');
    const [b] = await collect(readAvazu(file(gzipSync(`${text}\n`))));
    expect(b.n).toBe(2);
    expect(b.schema.fields.map((f) => f.name)).not.toContain('id');
    expect(Array.from(b.labels!)).toEqual([1, 0]);
    expect(Array.from(b.ts!)).toEqual([Date.UTC(2014, 9, 21, 0), Date.UTC(2014, 9, 25, 13)]);
    expect(Array.from(column(b, 'hour_of_day'))).toEqual([hashCategory('0'), hashCategory('13')]);
    // 2014-10-21 was a Tuesday, 2014-10-25 a Saturday.
    expect(Array.from(column(b, 'day_of_week'))).toEqual([hashCategory('tue'), hashCategory('sat')]);
    expect(column(b, 'C1')[0]).toBe(hashCategory('v0_0'));
    expect(column(b, 'site_category')[1]).toBe(0);
    expect(column(b, 'C21')[1]).toBe(hashCategory('v1_20'));
  });

  it('matches columns by header name, whatever their order', async () => {
    const names = HEADER.split(',');
    const values = row('7', '1', '14102100', 3).split(',');
    const order = names.map((_, i) => i).reverse();
    const text = `${order.map((i) => names[i]).join(',')}\n${order.map((i) => values[i]).join(',')}\n`;
    const [b] = await collect(readAvazu(file(text)));
    const [expected] = await collect(readAvazu(file(`${HEADER}\n${values.join(',')}\n`)));
    expect(b.columns.map((c) => c[0])).toEqual(expected.columns.map((c) => c[0]));
  });

  it('reports malformed rows: field count, click and hour', async () => {
    const text = [HEADER, row('1', '1', '14102100', 0), 'a,b', row('2', 'x', '14102100', 1), row('3', '0', '141021', 2), row('4', '0', '14132100', 2)].join('\n');
    const reader = readAvazu(file(`${text}\n`));
    await collect(reader);
    expect(reader.report.rows).toBe(1);
    expect(reader.report.firstErrors).toEqual([
      { line: 3, message: 'expected 24 comma-separated fields, found 2' },
      { line: 4, message: 'click must be 0 or 1, found "x"' },
      { line: 5, message: 'hour must be YYMMDDHH, found "141021"' },
      { line: 6, message: 'hour must be YYMMDDHH, found "14132100"' },
    ]);
  });

  it('rejects a file whose header lacks Avazu columns', async () => {
    await expect(collect(readAvazu(file('id,click,hour\n1,0,14102100\n')))).rejects.toMatchObject({
      code: 'PCTR_DATA_INVALID',
      message: expect.stringContaining('lacks C1, banner_pos'),
    });
  });

  it('splits after the header', async () => {
    const text = [HEADER, ...Array.from({ length: 4 }, (_, i) => row(String(i), '0', '14102100', i))].join('\n');
    expect(await split(file(text), { dataset: 'avazu', trainFraction: 0.5 })).toEqual({ rows: 4, train: { from: 0, to: 2 }, test: { from: 2, to: 4 } });
  });
});
