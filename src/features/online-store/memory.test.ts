import { describe, expect, it } from 'vitest';
import { onlineStoreContract } from '../../../test/contracts/online-store.contract.ts';
import { MemoryOnlineStore, createOnlineStore } from './index.ts';

onlineStoreContract('memory', {
  create: async (opts) => new MemoryOnlineStore({ type: 'memory', ttlMs: opts?.ttlMs ?? 0 }),
  cleanup: async () => undefined,
});

describe('memory online store', () => {
  it('is what createOnlineStore("memory:") builds', () => {
    expect(createOnlineStore('memory:')).toBeInstanceOf(MemoryOnlineStore);
  });

  it('keeps one entry per key across overwrites', async () => {
    const store = new MemoryOnlineStore({ type: 'memory', ttlMs: 60_000 });
    await store.put([{ ref: { entity: 'ad', key: 'a' }, values: { ad_imps_1h: 1 }, ts: 1 }]);
    await store.put([{ ref: { entity: 'ad', key: 'a' }, values: { ad_imps_1h: 2 }, ts: 2 }]);
    expect(store.size()).toBe(1);
    expect(await store.get([{ entity: 'ad', key: 'a' }])).toEqual([{ ad_imps_1h: 2 }]);
  });
});
