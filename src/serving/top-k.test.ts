import { describe, expect, it } from 'vitest';
import { TopKSelector } from './top-k.ts';

function pick(eCPM: number[], pCTR: number[], group: number[], k: number, minPctr = 0): number[] {
  const out = new Int32Array(eCPM.length);
  const n = new TopKSelector().select(
    { n: eCPM.length, eCPM: Float64Array.from(eCPM), pCTR: Float32Array.from(pCTR), minPctr, group: Int32Array.from(group), groups: Math.max(0, ...group) + 1, k },
    out,
  );
  return [...out.subarray(0, n)];
}

/** The same rules by full sort, as the reference. */
function reference(eCPM: number[], pCTR: number[], group: number[], k: number, minPctr: number): number[] {
  const order = eCPM.map((_, i) => i).filter((i) => pCTR[i] >= minPctr && !Number.isNaN(eCPM[i]));
  order.sort((a, b) => eCPM[b] - eCPM[a] || a - b);
  const taken = new Set<number>();
  const out: number[] = [];
  for (const i of order) {
    if (out.length === k) break;
    if (taken.has(group[i])) continue;
    taken.add(group[i]);
    out.push(i);
  }
  return out;
}

describe('TopKSelector', () => {
  it('takes the highest eCPM first, ties to the earlier candidate', () => {
    expect(pick([1, 5, 3, 5, 2], [0.1, 0.1, 0.1, 0.1, 0.1], [0, 1, 2, 3, 4], 3)).toEqual([1, 3, 2]);
  });

  it('serves at most one ad per campaign, skipping to the next campaign', () => {
    expect(pick([9, 8, 7, 1], [0.1, 0.1, 0.1, 0.1], [0, 0, 1, 2], 3)).toEqual([0, 2, 3]);
  });

  it('never serves a candidate below the minimum pCTR or with a NaN score', () => {
    expect(pick([9, 8, NaN, 1], [0.001, 0.2, NaN, 0.05], [0, 1, 2, 3], 4, 0.01)).toEqual([1, 3]);
  });

  it('returns fewer than k when the rules leave fewer', () => {
    expect(pick([3, 2, 1], [0.1, 0.1, 0.1], [0, 0, 0], 10)).toEqual([0]);
  });

  it('matches a full sort on random inputs, reusing its buffers across calls', () => {
    const selector = new TopKSelector();
    let seed = 5;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
    for (let trial = 0; trial < 200; trial++) {
      const n = 1 + Math.floor(rand() * 300);
      const eCPM = Array.from({ length: n }, () => Math.round(rand() * 50) / 10);
      const pCTR = Array.from({ length: n }, () => rand() * 0.1);
      const group = Array.from({ length: n }, () => Math.floor(rand() * 40));
      const k = 1 + Math.floor(rand() * 20);
      const out = new Int32Array(n);
      const got = selector.select({ n, eCPM: Float64Array.from(eCPM), pCTR: Float32Array.from(pCTR), minPctr: 0.01, group: Int32Array.from(group), groups: 40, k }, out);
      expect([...out.subarray(0, got)]).toEqual(reference(eCPM, [...Float32Array.from(pCTR)], group, k, 0.01));
    }
  });
});
