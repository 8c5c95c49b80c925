import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../../test/helpers/synthetic-ctr.ts';
import { histogramLayout } from './histogram.ts';
import { findBestSplit, Split } from './split.ts';

const RULES = { lambda: 1, gamma: 0, minChildWeight: 0, minChildSamples: 1 };

/** Histogram of one feature from per-row (bin, g, h). */
function histogramOf(bins: number[], g: number[], h: number[], nb: number): Float64Array {
  const hist = new Float64Array(3 * nb);
  bins.forEach((b, i) => {
    hist[3 * b] += g[i];
    hist[3 * b + 1] += h[i];
    hist[3 * b + 2]++;
  });
  return hist;
}

describe('GBDT split search', () => {
  it('finds the cut and missing side a brute force over rows finds', () => {
    const rand = seededRandom(4);
    for (let trial = 0; trial < 20; trial++) {
      const nb = 2 + Math.floor(rand() * 12);
      const n = 200;
      const bins = Array.from({ length: n }, () => Math.floor(rand() * nb));
      const g = bins.map((b) => (b === 0 ? 0.6 : (b % 3) - 1) * rand());
      const h = bins.map(() => 0.05 + rand() / 5);
      const score = (gs: number, hs: number) => (gs * gs) / (hs + RULES.lambda);
      const G = g.reduce((s, v) => s + v, 0);
      const H = h.reduce((s, v) => s + v, 0);
      let best = 1e-6;
      let expected: [number, boolean] | null = null;
      for (let t = 1; t < nb; t++) {
        for (const missingLeft of [false, true]) {
          let [gl, hl, cl] = [0, 0, 0];
          bins.forEach((b, i) => {
            if (b === 0 ? missingLeft : b <= t) [gl, hl, cl] = [gl + g[i], hl + h[i], cl + 1];
          });
          if (cl === 0 || cl === n) continue;
          const gain = score(gl, hl) + score(G - gl, H - hl) - score(G, H);
          if (gain > best + 1e-9) [best, expected] = [gain, [t, missingLeft]];
        }
      }
      const split = new Split();
      const { offsets } = histogramLayout([nb]);
      findBestSplit(histogramOf(bins, g, h, nb), 0, offsets, Int32Array.of(nb), Int32Array.of(0), { g: G, h: H, c: n }, RULES, split);
      if (expected === null) {
        expect(split.found).toBe(false);
        continue;
      }
      expect(split.gain).toBeCloseTo(best, 9);
      // Equal partitions can be written two ways (all non-missing left with missing right, or the mirror): compare the partition.
      const side = (t: number, ml: boolean) => bins.map((b) => (b === 0 ? ml : b <= t));
      const got = side(split.bin, split.missingLeft);
      const want = side(...expected);
      expect(got.every((v, i) => v === want[i]) || got.every((v, i) => v !== want[i])).toBe(true);
    }
  });

  it('respects min child weight, min child samples and gamma', () => {
    const bins = [1, 1, 1, 2, 2, 2, 2, 2, 2, 2];
    const g = [-1, -1, -1, 1, 1, 1, 1, 1, 1, 1];
    const h = new Array(10).fill(0.25);
    const hist = histogramOf(bins, g, h, 3);
    const { offsets } = histogramLayout([3]);
    const totals = { g: 4, h: 2.5, c: 10 };
    const split = new Split();
    const find = (rules: Partial<typeof RULES>) => {
      findBestSplit(hist, 0, offsets, Int32Array.of(3), Int32Array.of(0), totals, { ...RULES, ...rules }, split);
      return split.found;
    };
    expect(find({})).toBe(true);
    expect([split.bin, split.cLeft]).toEqual([1, 3]);
    const gain = split.gain;
    expect(find({ minChildWeight: 0.8 })).toBe(false);
    expect(find({ minChildSamples: 4 })).toBe(false);
    expect(find({ gamma: gain + 0.01 })).toBe(false);
  });
});
