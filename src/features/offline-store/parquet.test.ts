import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers/services.ts';
import { example } from '../../../test/helpers/labeled-examples.ts';
import { RawBatchBuilder, type FeatureSchema, type LabeledExample, type RawBatch } from '../../core/index.ts';
import { servedFeatureSchema } from '../definitions.ts';
import { ParquetOfflineStore, parseOfflineStoreUrl } from './parquet.ts';

const H = 3_600_000;
const T0 = Date.parse('2024-03-10T22:00:00Z');

/** What a read must return: the examples in (ts, impressionId) order, through the builder the ranker and learners use. */
function expected(examples: readonly LabeledExample[], schema: FeatureSchema): RawBatch {
  const sorted = [...examples].sort((a, b) => a.ts - b.ts || (a.impressionId < b.impressionId ? -1 : 1));
  const b = new RawBatchBuilder(schema, sorted.length);
  for (const e of sorted) b.add(e.features, e.label, e.ts);
  return b.build({ labels: true, ts: true });
}

async function readAll(store: ParquetOfflineStore, from: number, to: number, schema: FeatureSchema, opts = {}): Promise<RawBatch[]> {
  const out: RawBatch[] = [];
  for await (const b of store.read({ from, to }, schema, opts)) out.push(b);
  return out;
}

function concat(batches: RawBatch[], schema: FeatureSchema): { n: number; columns: number[][]; labels: number[]; ts: number[] } {
  return {
    n: batches.reduce((s, b) => s + b.n, 0),
    columns: schema.fields.map((_, i) => batches.flatMap((b) => Array.from(b.columns[i]))),
    labels: batches.flatMap((b) => Array.from(b.labels!)),
    ts: batches.flatMap((b) => Array.from(b.ts!)),
  };
}

function flat(b: RawBatch): { n: number; columns: number[][]; labels: number[]; ts: number[] } {
  return { n: b.n, columns: b.columns.map((c) => Array.from(c)), labels: Array.from(b.labels!), ts: Array.from(b.ts!) };
}

describe('ParquetOfflineStore', () => {
  const cleanups: (() => void | Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  const open = () => {
    const tmp = tempDir('offline');
    const store = new ParquetOfflineStore(parseOfflineStoreUrl(`file:${tmp.dir}`));
    cleanups.push(tmp.remove, () => store.close());
    return { store, dir: tmp.dir };
  };
  const schema = servedFeatureSchema();

  it('writes examples partitioned by hour and reads a range back exactly, in (ts, impressionId) order', async () => {
    const { store, dir } = open();
    // Three hours across midnight UTC, written out of order, with ties on ts.
    const examples = [2, 0, 1].flatMap((h) => Array.from({ length: 40 }, (_, k) => example(h * 100 + k, T0 + h * H + Math.floor(k / 2) * 60_000, k % 9 === 0 ? 1 : 0)));
    const files = await store.writeExamples(examples, 'batch-1');
    expect(files.map((f) => f.slice(dir.length + 1))).toEqual([
      'date=2024-03-10/hour=22/batch-1.parquet',
      'date=2024-03-10/hour=23/batch-1.parquet',
      'date=2024-03-11/hour=00/batch-1.parquet',
    ]);
    expect(readdirSync(join(dir, 'date=2024-03-11', 'hour=00'))).toEqual(['batch-1.parquet']);
    const from = T0 + 30 * 60_000;
    const to = T0 + 2 * H + 10 * 60_000;
    const batches = await readAll(store, from, to, schema, { batchSize: 16 });
    expect(batches.every((b) => b.n <= 16)).toBe(true);
    expect(concat(batches, schema)).toEqual(flat(expected(examples.filter((e) => e.ts >= from && e.ts < to), schema)));
    expect(await store.stats({ from, to })).toEqual({
      rows: examples.filter((e) => e.ts >= from && e.ts < to).length,
      positives: examples.filter((e) => e.ts >= from && e.ts < to && e.label === 1).length,
      minTs: T0 + H,
      maxTs: T0 + 2 * H + 9 * 60_000,
    });
  });

  it('rewriting under the same name replaces the file instead of adding rows', async () => {
    const { store } = open();
    const examples = Array.from({ length: 50 }, (_, i) => example(i, T0 + i * 1000, i % 5 === 0 ? 1 : 0));
    await store.writeExamples(examples, 'p0-1');
    await store.writeExamples(examples, 'p0-1');
    expect((await store.stats({ from: T0, to: T0 + H })).rows).toBe(50);
    await store.writeExamples(examples.slice(0, 10), 'p0-2');
    expect((await store.stats({ from: T0, to: T0 + H })).rows).toBe(60);
  });

  it('stacks files whose feature columns differ (a feature added later reads as missing before)', async () => {
    const { store } = open();
    const old = Array.from({ length: 5 }, (_, i) => example(i, T0 + i, 0));
    const newer = Array.from({ length: 5 }, (_, i) => example(10 + i, T0 + 100 + i, 1, { user_ctr_24h: 0.5, extra_tag: 'x' }));
    await store.writeExamples(old, 'a');
    await store.writeExamples(newer, 'b');
    const s: FeatureSchema = { fields: [{ name: 'user_ctr_24h', kind: 'numeric' }, { name: 'extra_tag', kind: 'categorical' }, { name: 'ad_id', kind: 'categorical' }] };
    const got = concat(await readAll(store, T0, T0 + H, s), s);
    expect(got).toEqual(flat(expected([...old, ...newer], s)));
    expect(got.columns[0].slice(0, 5).every(Number.isNaN)).toBe(true);
  });

  it('downsamples negatives at rate w, keeps every positive, deterministically per seed', async () => {
    const { store } = open();
    const examples = Array.from({ length: 4000 }, (_, i) => example(i, T0 + i * 500, i % 20 === 0 ? 1 : 0));
    await store.writeExamples(examples, 'all');
    const s: FeatureSchema = { fields: [{ name: 'ad_id', kind: 'categorical' }] };
    const sample = async (seed: number) => concat(await readAll(store, T0, T0 + 3 * H, s, { sampleNegatives: 0.1, seed }), s);
    const a = await sample(1);
    const positives = a.labels.filter((l) => l === 1).length;
    const negatives = a.labels.length - positives;
    expect(positives).toBe(200);
    expect(negatives).toBeGreaterThan(3800 * 0.1 - 60);
    expect(negatives).toBeLessThan(3800 * 0.1 + 60);
    expect(await sample(1)).toEqual(a);
    expect((await sample(2)).ts).not.toEqual(a.ts);
    await expect(readAll(store, T0, T0 + H, s, { sampleNegatives: 0 })).rejects.toThrow(/sampleNegatives/);
  });

  it('yields nothing for an empty range, a range without files, or an empty store', async () => {
    const { store } = open();
    expect(await readAll(store, T0, T0 + H, schema)).toEqual([]);
    expect(await store.stats({ from: T0, to: T0 + H })).toEqual({ rows: 0, positives: 0, minTs: null, maxTs: null });
    await store.writeExamples([example(1, T0 + 10, 1)], 'one');
    expect(await readAll(store, T0 + 20, T0 + 20, schema)).toEqual([]);
    expect(await readAll(store, T0 + 11, T0 + H, schema)).toEqual([]);
    expect(await readAll(store, T0 + 5 * H, T0 + 6 * H, schema)).toEqual([]);
    expect((await readAll(store, T0, T0 + 11, schema))[0].n).toBe(1);
  });

  it('leaves no temporary file behind and rejects unsafe file names', async () => {
    const { store, dir } = open();
    await store.writeExamples([example(1, T0, 0)], 'x');
    expect(existsSync(join(dir, '_tmp')) ? readdirSync(join(dir, '_tmp')) : []).toEqual([]);
    expect(() => store.writeExamples([example(1, T0, 0)], '../escape')).toThrow(/file name/);
  });
});
