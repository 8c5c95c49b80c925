/**
 * The OnlineStore contract suite: every backend must pass it unchanged (src/features/online-store/*.test.ts
 * call it with their factory). It checks what online-store.ts promises: order, null for unknown,
 * whole-vector replacement, float32 values, one call for many mixed refs, TTL, validation.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isPctrError } from '../../src/core/index.ts';
import { ENTITY_LAYOUTS, defaultFeatures, type EntityType } from '../../src/features/definitions.ts';
import { canReadPacked, type EntityRef, type FeatureRow, type FeatureVector, type OnlineStore } from '../../src/features/online-store/index.ts';

export interface OnlineStoreBackend {
  /** A fresh, empty store (its own key space); entries expire after `ttlMs` when given. */
  create(opts?: { ttlMs?: number }): Promise<OnlineStore>;
  /** Remove whatever the stores created (keys, files). */
  cleanup(): Promise<void>;
}

/** A vector with distinct, non-round values so order and float32 rounding both show. */
function vectorFor(entity: EntityType, seed: number): Record<string, number> {
  const out: Record<string, number> = {};
  ENTITY_LAYOUTS[entity].forEach((name, i) => (out[name] = seed * 10.1 + i + 0.123456789));
  return out;
}

function expectFloat32Equal(actual: FeatureVector | null, expected: Record<string, number>): void {
  expect(actual).not.toBeNull();
  expect(Object.keys(actual!).sort()).toEqual(Object.keys(expected).sort());
  for (const [k, v] of Object.entries(expected)) expect(actual![k]).toBe(Math.fround(v));
}

const row = (entity: EntityType, key: string, values: Record<string, number>, ts = 1_000): FeatureRow => ({ ref: { entity, key }, values, ts });

export function onlineStoreContract(name: string, backend: OnlineStoreBackend): void {
  describe(`OnlineStore contract: ${name}`, () => {
    const open: OnlineStore[] = [];
    const create = async (opts?: { ttlMs?: number }) => {
      const s = await backend.create(opts);
      open.push(s);
      return s;
    };
    afterEach(async () => {
      for (const s of open.splice(0)) await s.close();
      await backend.cleanup();
    });

    it('round-trips a vector (float32 precision)', async () => {
      const store = await create();
      const v = vectorFor('ad', 1);
      await store.put([row('ad', 'a1', v)]);
      const [got] = await store.get([{ entity: 'ad', key: 'a1' }]);
      expectFloat32Equal(got, v);
    });

    it('returns null for unknown entities and for a known key of another entity type', async () => {
      const store = await create();
      await store.put([row('ad', 'x', vectorFor('ad', 2))]);
      expect(await store.get([{ entity: 'ad', key: 'nope' }, { entity: 'campaign', key: 'x' }])).toEqual([null, null]);
    });

    it('returns results in the order of the refs, including duplicates', async () => {
      const store = await create();
      await store.put([row('user', 'u1', vectorFor('user', 1)), row('user', 'u2', vectorFor('user', 2)), row('user', 'u3', vectorFor('user', 3))]);
      const got = await store.get([
        { entity: 'user', key: 'u3' },
        { entity: 'user', key: 'missing' },
        { entity: 'user', key: 'u1' },
        { entity: 'user', key: 'u3' },
        { entity: 'user', key: 'u2' },
      ]);
      expectFloat32Equal(got[0], vectorFor('user', 3));
      expect(got[1]).toBeNull();
      expectFloat32Equal(got[2], vectorFor('user', 1));
      expectFloat32Equal(got[3], vectorFor('user', 3));
      expectFloat32Equal(got[4], vectorFor('user', 2));
    });

    it('reads mixed entity types in one call, keys equal across types kept apart', async () => {
      const store = await create();
      const entities: EntityType[] = ['user', 'ad', 'campaign', 'user_category'];
      await store.put(entities.map((e, i) => row(e, 'same', vectorFor(e, i + 1))));
      const got = await store.get(entities.map((e) => ({ entity: e, key: 'same' })));
      entities.forEach((e, i) => expectFloat32Equal(got[i], vectorFor(e, i + 1)));
    });

    it('a put replaces the whole vector; names left out are absent afterwards', async () => {
      const store = await create();
      await store.put([row('campaign', 'c1', vectorFor('campaign', 1))]);
      const partial = { campaign_imps_1h: 7, campaign_ctr_1h: 0.25 };
      await store.put([row('campaign', 'c1', partial, 2_000)]);
      const [got] = await store.get([{ entity: 'campaign', key: 'c1' }]);
      expectFloat32Equal(got, partial);
    });

    it('writes and reads 1000 refs in one call each', async () => {
      const store = await create();
      const rows = Array.from({ length: 1000 }, (_, i) => row('ad', `ad-${i}`, vectorFor('ad', i)));
      await store.put(rows);
      const refs: EntityRef[] = rows.map((r) => r.ref).reverse();
      const got = await store.get(refs);
      expect(got).toHaveLength(1000);
      got.forEach((g, j) => expectFloat32Equal(g, vectorFor('ad', 999 - j)));
    });

    it('keeps exact values of counts and the default vector', async () => {
      const store = await create();
      const d = defaultFeatures('user_category');
      const counts = { ...d, user_category_imps_24h: 16_777_216, user_category_clicks_24h: 3 };
      await store.put([row('user_category', 'u1|sports', counts)]);
      const [got] = await store.get([{ entity: 'user_category', key: 'u1|sports' }]);
      expectFloat32Equal(got, counts);
    });

    it('expires entries after the TTL', async () => {
      const store = await create({ ttlMs: 150 });
      await store.put([row('ad', 'short', vectorFor('ad', 1))]);
      expect((await store.get([{ entity: 'ad', key: 'short' }]))[0]).not.toBeNull();
      await vi.waitFor(async () => expect((await store.get([{ entity: 'ad', key: 'short' }]))[0]).toBeNull(), { timeout: 3000, interval: 25 });
    });

    it('rejects a feature outside the layout and an unknown entity type, writing nothing', async () => {
      const store = await create();
      const bad = [row('ad', 'ok', vectorFor('ad', 1)), row('ad', 'bad', { ad_imps_1h: 1, ad_bogus: 2 })];
      await expect(store.put(bad)).rejects.toSatisfy((e) => isPctrError(e, 'PCTR_VALIDATION') && /ad_bogus/.test((e as Error).message));
      expect(await store.get([{ entity: 'ad', key: 'ok' }])).toEqual([null]);
      await expect(store.get([{ entity: 'planet', key: 'x' }])).rejects.toSatisfy((e) => isPctrError(e, 'PCTR_VALIDATION') && /planet/.test((e as Error).message));
    });

    it('reads packed exactly what get reads (layout order, NaN for no value, unknown refs counted)', async () => {
      const store = await create();
      expect(canReadPacked(store)).toBe(true);
      if (!canReadPacked(store)) return;
      await store.put([
        row('user', 'u1', vectorFor('user', 1)),
        row('ad', 'a1', vectorFor('ad', 2)),
        row('campaign', 'c1', { campaign_imps_1h: 7, campaign_ctr_1h: 0.25 }),
      ]);
      const refs: EntityRef[] = [
        { entity: 'ad', key: 'a1' },
        { entity: 'user', key: 'nobody' },
        { entity: 'campaign', key: 'c1' },
        { entity: 'user', key: 'u1' },
        { entity: 'user_category', key: 'u1|x' },
      ];
      const stride = 8;
      const out = new Float32Array(refs.length * stride).fill(-1);
      expect(await store.getPacked(refs, out, stride)).toBe(2);
      const vectors = await store.get(refs);
      refs.forEach((ref, i) => {
        const names = store.layoutOf(ref.entity);
        expect(names).toEqual(ENTITY_LAYOUTS[ref.entity as EntityType]);
        names.forEach((name, j) => expect(out[i * stride + j]).toBe(vectors[i]?.[name] ?? NaN));
        // Past the layout's width the caller's slots are left alone.
        for (let j = names.length; j < stride; j++) expect(out[i * stride + j]).toBe(-1);
      });
      await expect(store.getPacked([{ entity: 'planet', key: 'x' }], out, stride)).rejects.toSatisfy((e) => isPctrError(e, 'PCTR_VALIDATION'));
    });

    it('answers an empty get with an empty array', async () => {
      const store = await create();
      expect(await store.get([])).toEqual([]);
      await store.put([]);
    });
  });
}
