import { describe, expect, it } from 'vitest';
import { MemoryOnlineStore, type FeatureRow } from '../features/index.ts';
import { ReplicatedStore } from './replicated-store.ts';

const row = (key: string, imps: number, ts: number): FeatureRow => ({ ref: { entity: 'user', key }, values: { user_imps_1h: imps }, ts });

describe('ReplicatedStore', () => {
  it('gives a replica that attaches late the latest row of every entity, then every put, and reads the same as the primary', async () => {
    const primary = new ReplicatedStore(new MemoryOnlineStore());
    await primary.put([row('u1', 1, 10), row('u2', 5, 10)]);
    await primary.put([row('u1', 2, 20)]);

    const replica = new MemoryOnlineStore();
    const received: (readonly FeatureRow[])[] = [];
    const { snapshot, detach } = primary.attach((rows) => received.push(rows));
    expect(snapshot.map((r) => [r.ref.key, r.values.user_imps_1h])).toEqual([
      ['u1', 2],
      ['u2', 5],
    ]);
    await replica.put(snapshot);
    await primary.put([row('u2', 6, 30), row('u3', 1, 30)]);
    for (const rows of received) await replica.put(rows);

    const refs = ['u1', 'u2', 'u3', 'u4'].map((key) => ({ entity: 'user', key }));
    expect(await replica.get(refs)).toEqual(await primary.get(refs));
    expect((await replica.get(refs)).map((v) => v?.user_imps_1h ?? null)).toEqual([2, 6, 1, null]);

    detach();
    await primary.put([row('u1', 9, 40)]);
    expect(received).toHaveLength(1);
    await primary.close();
    await replica.close();
  });
});
