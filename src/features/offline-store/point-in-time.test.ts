import { afterEach, describe, expect, it } from 'vitest';
import { example } from '../../../test/helpers/labeled-examples.ts';
import { tempDir } from '../../../test/helpers/services.ts';
import type { FeatureSchema, RawBatch } from '../../core/index.ts';
import { Aggregator } from '../aggregates/aggregator.ts';
import { DEFAULT_CTR_PRIOR, ENTITY_LAYOUTS, type EntityType } from '../definitions.ts';
import { ParquetOfflineStore } from './parquet.ts';

const H = 3_600_000;
const T0 = Date.parse('2024-03-10T22:00:00Z');

function snapshot(entity: EntityType, ts: number, rows: Record<string, number>) {
  const names = ENTITY_LAYOUTS[entity];
  const keys = Object.keys(rows);
  const values = new Float64Array(keys.length * names.length);
  // Every value of a key's vector = its marker, so a wrong snapshot shows in any column.
  keys.forEach((k, i) => values.fill(rows[k], i * names.length, (i + 1) * names.length));
  return { entity, ts, names, keys, values };
}

async function read(store: ParquetOfflineStore, schema: FeatureSchema, opts = {}): Promise<RawBatch> {
  const batches: RawBatch[] = [];
  for await (const b of store.read({ from: T0 - 10 * H, to: T0 + 10 * H }, schema, opts)) batches.push(b);
  expect(batches).toHaveLength(1);
  return batches[0];
}

describe('point-in-time reads (ASOF join on entity snapshots)', () => {
  const cleanups: (() => void | Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  const open = () => {
    const tmp = tempDir('pit');
    const store = new ParquetOfflineStore({ type: 'file', dir: tmp.dir, threads: 1 });
    cleanups.push(tmp.remove, () => store.close());
    return store;
  };

  it('attaches the latest snapshot strictly before each example, never a later one', async () => {
    const store = open();
    // Ads a1 and a2 (example(i) has adId a${i % 5}); snapshots at T0, T0+1h, T0+2h with markers.
    await store.writeSnapshots([snapshot('ad', T0, { a1: 10, a2: 20 })]);
    await store.writeSnapshots([snapshot('ad', T0 + H, { a1: 11 })]);
    await store.writeSnapshots([snapshot('ad', T0 + 2 * H, { a1: 12, a2: 22 })]);
    const examples = [
      example(1, T0 - 1, 0), // a1 before any snapshot → cold defaults
      example(6, T0, 1), // a1 at exactly the first snapshot's ts → still nothing (strictly before)
      example(11, T0 + 1, 0), // a1 → 10
      example(16, T0 + H, 0), // a1 at the second snapshot's ts → 10, not 11
      example(21, T0 + H + 1, 1), // a1 → 11
      example(2, T0 + H + 2, 0), // a2 → 20 (a2 has no snapshot at T0+1h)
      example(26, T0 + 5 * H, 0), // a1 → 12
      example(3, T0 + 5 * H + 1, 0), // a3 never snapshotted → defaults
    ];
    await store.writeExamples(examples, 'x');
    const schema: FeatureSchema = { fields: [{ name: 'ad_imps_1h', kind: 'numeric' }, { name: 'ad_ctr_24h', kind: 'numeric' }, { name: 'ctx_device', kind: 'categorical' }] };
    const pit = await read(store, schema, { pointInTime: ['ad'] });
    expect(Array.from(pit.ts!)).toEqual(examples.map((e) => e.ts));
    expect(Array.from(pit.columns[0])).toEqual([0, 0, 10, 10, 11, 20, 12, 0]);
    expect(Array.from(pit.columns[1])).toEqual([DEFAULT_CTR_PRIOR.ctr, DEFAULT_CTR_PRIOR.ctr, 10, 10, 11, 20, 12, DEFAULT_CTR_PRIOR.ctr].map(Math.fround));
    // Without pointInTime the logged (as-served) values come back.
    const logged = await read(store, schema);
    expect(Array.from(logged.columns[0])).toEqual(examples.map((e) => e.features.ad_imps_1h));
    expect(Array.from(logged.columns[2])).toEqual(Array.from(pit.columns[2]));
  });

  it('joins user×category snapshots written by the aggregator, with no value from the future', async () => {
    const store = open();
    const agg = new Aggregator({ snapshots: true });
    // The aggregator sees u1's impression on cat1 and its click, then a snapshot is taken.
    agg.impression('u1', 'a1', 'c1', 'cat1', T0);
    agg.click('u1', 'a1', 'c1', 'cat1', T0, T0 + 60_000);
    await store.writeSnapshots(agg.snapshotRows());
    agg.impression('u1', 'a2', 'c1', 'cat1', T0 + 10 * 60_000);
    await store.writeSnapshots(agg.snapshotRows());
    // example(1), (29), (57): userId u1, ad_category cat1. At T0+30s the click (T0+60s) must not be visible.
    const examples = [example(1, T0 + 30_000, 1), example(29, T0 + 5 * 60_000, 0), example(57, T0 + 20 * 60_000, 0)];
    await store.writeExamples(examples, 'x');
    const schema: FeatureSchema = { fields: ['user_category_imps_1h', 'user_category_clicks_1h'].map((name) => ({ name, kind: 'numeric' as const })) };
    const b = await read(store, schema, { pointInTime: ['user_category'] });
    expect(Array.from(b.columns[0])).toEqual([0, 1, 2]);
    expect(Array.from(b.columns[1])).toEqual([0, 1, 1]);
  });
});
