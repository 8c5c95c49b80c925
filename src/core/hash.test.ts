import { describe, expect, it } from 'vitest';
import { hashCategory, RawBatchBuilder } from './batch.ts';
import { hashPair, hashString, partitionOf, unitInterval } from './hash.ts';

describe('hashing', () => {
  it('is deterministic, seeded and spreads keys evenly over partitions', () => {
    expect(hashString('abc')).toBe(hashString('abc'));
    expect(hashString('abc', 1)).not.toBe(hashString('abc', 2));
    expect(hashString('ab')).not.toBe(hashString('ba'));
    expect(hashString('')).toBe(hashString(''));
    const counts = new Array(8).fill(0);
    for (let i = 0; i < 80_000; i++) counts[partitionOf(`imp-${i}`, 8)]++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500);
  });

  it('hashPair mixes both inputs', () => {
    expect(hashPair(1, 2)).not.toBe(hashPair(2, 1));
    expect(hashPair(1, 2)).toBe(hashPair(1, 2));
  });

  it('unitInterval is in [0, 1)', () => {
    for (let i = 0; i < 1000; i++) {
      const u = unitInterval(`u${i}`);
      expect(u).toBeGreaterThanOrEqual(0);
      expect(u).toBeLessThan(1);
    }
  });
});

describe('RawBatchBuilder', () => {
  it('fills columns by name, hashes categories, leaves missing values missing and grows', () => {
    const b = new RawBatchBuilder(
      { fields: [{ name: 'ad', kind: 'categorical' }, { name: 'ctr', kind: 'numeric' }] },
      1,
    );
    b.add({ ad: 'a1', ctr: 0.5, unknown: 'x' }, 1, 100);
    b.add({ ad: 'a2' }, 0, 200);
    b.add({ ctr: '0.25' }, 0, 300);
    const batch = b.build({ labels: true, ts: true });
    expect(batch.n).toBe(3);
    expect(Array.from(batch.columns[0])).toEqual([hashCategory('a1'), hashCategory('a2'), 0]);
    expect(Array.from(batch.columns[1])).toEqual([0.5, NaN, 0.25]);
    expect(Array.from(batch.labels!)).toEqual([1, 0, 0]);
    expect(Array.from(batch.ts!)).toEqual([100, 200, 300]);
  });
});
