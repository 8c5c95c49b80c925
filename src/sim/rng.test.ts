import { describe, expect, it } from 'vitest';
import { AliasTable, hashNormal, normalQuantile, Rng, sigmoid, solveIntercept, ZipfSampler, zipfWeights } from './rng.ts';

function draws(f: () => number, n: number): Float64Array {
  return Float64Array.from({ length: n }, f);
}

function meanVar(xs: Float64Array): [number, number] {
  let m = 0;
  for (const x of xs) m += x;
  m /= xs.length;
  let v = 0;
  for (const x of xs) v += (x - m) ** 2;
  return [m, v / xs.length];
}

describe('Rng', () => {
  it('is reproducible per seed and stream, and different across them', () => {
    const seq = (seed: number, stream = '') => {
      const r = new Rng(seed, stream);
      return Array.from({ length: 8 }, () => r.u32());
    };
    expect(seq(42)).toEqual(seq(42));
    expect(seq(42)).not.toEqual(seq(43));
    expect(seq(42, 'traffic')).not.toEqual(seq(42, 'clicks'));
    expect(seq(2 ** 40 + 1)).not.toEqual(seq(1));
  });

  it('draws uniforms in [0, 1) with the right moments and integers in range', () => {
    const r = new Rng(1);
    const xs = draws(() => r.next(), 200_000);
    const [m, v] = meanVar(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(m).toBeCloseTo(0.5, 2);
    expect(v).toBeCloseTo(1 / 12, 2);
    const counts = new Array(7).fill(0);
    for (let i = 0; i < 70_000; i++) counts[r.int(7)]++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(400);
  });

  it('draws normals (exact and tabulated) and lognormals with the right moments', () => {
    const r = new Rng(2);
    for (const f of [() => r.normal(), () => r.quickNormal()]) {
      const [m, v] = meanVar(draws(f, 200_000));
      expect(Math.abs(m)).toBeLessThan(0.01);
      expect(v).toBeCloseTo(1, 1);
    }
    const logs = draws(() => r.lognormal(Math.log(40), 1), 100_000).sort();
    expect(logs[50_000]).toBeGreaterThan(38);
    expect(logs[50_000]).toBeLessThan(42);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 5);
    expect(normalQuantile(0.001)).toBeCloseTo(-3.090232, 5);
  });

  it('gives hash-derived normals centred with unit spread', () => {
    const r = new Rng(3);
    const [hm, hv] = meanVar(draws(() => hashNormal(r.u32()), 100_000));
    expect(Math.abs(hm)).toBeLessThan(0.02);
    expect(hv).toBeCloseTo(1, 1);
  });
});

describe('AliasTable', () => {
  it('samples in proportion to the weights', () => {
    const w = [5, 0, 1, 3, 1];
    const t = new AliasTable(w);
    const r = new Rng(4);
    const counts = new Array(w.length).fill(0);
    const n = 200_000;
    for (let i = 0; i < n; i++) counts[t.sample(r)]++;
    expect(counts[1]).toBe(0);
    for (let i = 0; i < w.length; i++) expect(counts[i] / n).toBeCloseTo(w[i] / 10, 2);
  });

  it('rejects unusable weights with a message naming them', () => {
    expect(() => new AliasTable([])).toThrow(/at least one/);
    expect(() => new AliasTable([1, -1])).toThrow(/weight 1/);
    expect(() => new AliasTable([0, 0])).toThrow(/sum to 0/);
  });
});

describe('ZipfSampler', () => {
  it.each([
    [100, 1.0],
    [1_000_000, 1.1],
    [50_000, 0.5],
  ])('matches the exact Zipf law of %i values with exponent %f (head ranks and tail mass)', (n, s) => {
    const z = new ZipfSampler(n, s, 64);
    const w = zipfWeights(n, s);
    let total = 0;
    for (const x of w) total += x;
    let tailMass = 0;
    for (let i = 64; i < n; i++) tailMass += w[i] / total;
    const r = new Rng(5);
    const draws = 400_000;
    const head = new Array(3).fill(0);
    let tail = 0;
    let beyond = 0;
    for (let i = 0; i < draws; i++) {
      const k = z.sample(r);
      if (k < 3) head[k]++;
      if (k >= 64) tail++;
      if (k < 0 || k >= n || !Number.isInteger(k)) beyond++;
    }
    expect(beyond).toBe(0);
    for (let k = 0; k < 3; k++) expect(head[k] / draws).toBeCloseTo(w[k] / total, 2);
    expect(Math.abs(tail / draws - tailMass)).toBeLessThan(0.01);
  });
});

describe('solveIntercept', () => {
  it('finds the intercept giving the target mean probability', () => {
    const r = new Rng(6);
    const offsets = draws(() => 1.2 * r.normal(), 20_000);
    const b = solveIntercept(offsets, 0.03);
    let mean = 0;
    for (const o of offsets) mean += sigmoid(b + o);
    expect(mean / offsets.length).toBeCloseTo(0.03, 5);
  });
});
