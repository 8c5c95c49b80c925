import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers/services.ts';
import { RawBatchBuilder, isPctrError, type FeatureSchema, type RawBatch } from '../../core/index.ts';
import { readSnapshot, writeSnapshot } from './snapshot.ts';

const schema: FeatureSchema = { fields: [{ name: 'ad', kind: 'categorical' }, { name: 'imps', kind: 'numeric' }] };

function batch(rows: number, offset: number): RawBatch {
  const b = new RawBatchBuilder(schema, rows);
  for (let i = 0; i < rows; i++) b.add(i % 4 === 3 ? { imps: i } : { ad: `a${(offset + i) % 7}`, imps: i % 5 === 0 ? NaN : offset + i * 0.5 }, (offset + i) % 3 === 0 ? 1 : 0, 1_000 + offset + i);
  return b.build({ labels: true, ts: true });
}

async function* source(batches: RawBatch[]): AsyncGenerator<RawBatch> {
  yield* batches;
}

const flat = (bs: RawBatch[]) => ({
  n: bs.reduce((a, b) => a + b.n, 0),
  columns: schema.fields.map((_, j) => bs.flatMap((b) => Array.from(b.columns[j]))),
  labels: bs.flatMap((b) => Array.from(b.labels!)),
  ts: bs.flatMap((b) => Array.from(b.ts!)),
});

describe('training snapshots', () => {
  const dirs: { remove: () => void }[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => d.remove()));
  const path = () => {
    const t = tempDir('snap');
    dirs.push(t);
    return join(t.dir, 'part.snap');
  };
  const readAll = async (p: string) => {
    const out: RawBatch[] = [];
    for await (const b of readSnapshot(p)) out.push(b);
    return out;
  };

  it('reads back exactly the batches written (missing values included) and summarizes them', async () => {
    const p = path();
    const written = [batch(100, 0), batch(37, 100), batch(0, 0), batch(5, 137)];
    const summary = await writeSnapshot(p, schema, source(written));
    expect(summary).toMatchObject({ rows: 142, positives: written.reduce((a, b) => a + b.labels!.reduce((x, y) => x + y, 0), 0), minTs: 1_000, maxTs: 1_141 });
    const back = await readAll(p);
    expect(back.map((b) => b.n)).toEqual([100, 37, 5]);
    expect(flat(back)).toEqual(flat(written));
    expect(back[0].schema).toEqual(schema);
  });

  it('writes an empty snapshot for an empty source', async () => {
    const p = path();
    expect(await writeSnapshot(p, schema, source([]))).toMatchObject({ rows: 0, positives: 0, minTs: null, maxTs: null });
    expect(await readAll(p)).toEqual([]);
  });

  it('refuses a truncated or altered file with a clear error', async () => {
    const p = path();
    await writeSnapshot(p, schema, source([batch(50, 0)]));
    const bytes = readFileSync(p);
    writeFileSync(p, bytes.subarray(0, bytes.length - 30));
    const truncated = await readAll(p).catch((e: unknown) => e);
    expect(isPctrError(truncated, 'PCTR_DATA_INVALID')).toBe(true);
    expect((truncated as Error).message).toMatch(/part\.snap is corrupt: truncated at byte/);
    const altered = Buffer.from(bytes);
    altered[altered.length - 40] ^= 0xff;
    writeFileSync(p, altered);
    expect(((await readAll(p).catch((e: unknown) => e)) as Error).message).toMatch(/checksum mismatch/);
    writeFileSync(p, 'something else entirely');
    expect(((await readAll(p).catch((e: unknown) => e)) as Error).message).toMatch(/does not start with the snapshot magic bytes/);
  });
});
