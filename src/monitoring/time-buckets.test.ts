import { describe, expect, it } from 'vitest';
import { TimeBuckets } from './time-buckets.ts';

describe('TimeBuckets', () => {
  it('sums slots per event-time bucket and over ranges of bucket starts', () => {
    const b = new TimeBuckets(1000, 10, 2);
    b.add(5_100, 0);
    b.add(5_900, 0, 2);
    b.add(6_000, 1, 5);
    const out = new Float64Array(2);
    expect(b.sum(5_000, 6_000, out)).toBe(1);
    expect([...out]).toEqual([3, 0]);
    b.sum(5_000, 7_000, out);
    expect([...out]).toEqual([3, 5]);
    expect(b.column(4_000, 8_000, 0)).toEqual([0, 3, 0, 0]);
    expect(b.starts(4_000, 8_000)).toEqual([4_000, 5_000, 6_000, 7_000]);
    expect(b.newestStart).toBe(6_000);
  });

  it('reuses a bucket the ring wraps onto (cleared) and drops events older than its span', () => {
    const b = new TimeBuckets(1000, 3, 1);
    b.add(0, 0, 7);
    b.add(3_000, 0, 1);
    const out = new Float64Array(1);
    b.sum(0, 1_000, out);
    expect(out[0]).toBe(0);
    b.sum(3_000, 4_000, out);
    expect(out[0]).toBe(1);
    b.add(500, 0);
    expect(b.dropped).toBe(1);
    b.add(1_500, 0);
    b.sum(1_000, 2_000, out);
    expect(out[0]).toBe(1);
    expect(b.dropped).toBe(1);
  });
});
