import { describe, expect, it } from 'vitest';
import { EmbeddingTable } from './embeddings.ts';

const make = (opts: Partial<ConstructorParameters<typeof EmbeddingTable>[2]> = {}) =>
  new EmbeddingTable(1000, 6, { init: { kind: 'normal', scale: 0.1 }, seed: 7, initialState: [0.5], ...opts });

describe('EmbeddingTable', () => {
  it('initializes a row from (seed, row) alone, on first touch, and leaves untouched rows zero', () => {
    const a = make();
    const b = make();
    for (const r of [3, 999, 10]) a.touch(r);
    for (const r of [10, 3]) b.touch(r);
    expect(a.data.subarray(a.offset(3), a.offset(4))).toEqual(b.data.subarray(b.offset(3), b.offset(4)));
    expect(a.data.subarray(a.offset(10), a.offset(10) + 6).some((x) => x !== 0)).toBe(true);
    // State slots start at their initial value; an untouched row is all zeros.
    expect(Array.from(a.data.subarray(a.offset(3) + 6, a.offset(4)))).toEqual(new Array(6).fill(0.5));
    expect(a.data.subarray(a.offset(4), a.offset(5)).every((x) => x === 0)).toBe(true);
    expect(a.isTouched(4)).toBe(false);
    expect(a.touchedRows).toBe(3);
    expect(make({ seed: 8 }).data.subarray(0, 6)).toEqual(new Float32Array(6));
    const other = make({ seed: 8 });
    other.touch(3);
    expect(other.data.subarray(other.offset(3), other.offset(3) + 6)).not.toEqual(a.data.subarray(a.offset(3), a.offset(3) + 6));
  });

  it('draws normal and uniform initial values of the requested scale', () => {
    const normal = new EmbeddingTable(20_000, 4, { init: { kind: 'normal', scale: 0.1 }, seed: 1 });
    const uniform = new EmbeddingTable(20_000, 4, { init: { kind: 'uniform', scale: 0.1 }, seed: 1 });
    for (let r = 0; r < 20_000; r++) [normal, uniform].forEach((t) => t.touch(r));
    const moments = (xs: Float32Array) => {
      const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
      return { mean, sd: Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length), max: Math.max(...xs.map(Math.abs)) };
    };
    const n = moments(normal.data);
    expect(Math.abs(n.mean)).toBeLessThan(0.003);
    expect(n.sd).toBeCloseTo(0.1, 2);
    const u = moments(uniform.data);
    expect(u.sd).toBeCloseTo(0.1 / Math.sqrt(3), 2);
    expect(u.max).toBeLessThanOrEqual(0.1);
  });

  it('initializes a group of rows together', () => {
    const t = new EmbeddingTable(40, 4, { init: { kind: 'uniform', scale: 1 }, seed: 1, group: 4 });
    t.touch(9);
    expect([7, 8, 9, 10, 11, 12].map((r) => t.isTouched(r))).toEqual([false, true, true, true, true, false]);
    expect(t.data.subarray(t.offset(11), t.offset(11) + 4).some((x) => x !== 0)).toBe(true);
    expect(() => new EmbeddingTable(10, 4, { init: { kind: 'zero', scale: 0 }, seed: 1, group: 4 })).toThrow(/not a whole number of groups of 4/);
  });

  it('saves and restores exactly the touched rows', () => {
    const a = make();
    for (const r of [5, 500, 77]) a.touch(r);
    a.data[a.offset(500) + 2] = 1.25;
    const tensors = a.toTensors('emb');
    expect(Array.from(tensors.embIndex)).toEqual([5, 77, 500]);
    const b = make();
    b.loadTensors('emb', tensors);
    expect(b.data).toEqual(a.data);
    expect(b.touchedRows).toBe(3);
    // A restored row is not initialized again by a later touch.
    b.touch(500);
    expect(b.data[b.offset(500) + 2]).toBe(1.25);
  });

  it('refuses tensors that do not fit and tables that would not fit in memory', () => {
    const t = make();
    expect(() => t.loadTensors('emb', { embIndex: Int32Array.of(1), emb: new Float32Array(11) })).toThrow(expect.objectContaining({ code: 'PCTR_ARTIFACT_CORRUPT' }));
    expect(() => t.loadTensors('emb', { embIndex: Int32Array.of(1000), emb: new Float32Array(12) })).toThrow(/row 1000 of emb is outside its 1000 rows/);
    expect(() => new EmbeddingTable(2 ** 28, 16, { init: { kind: 'zero', scale: 0 }, seed: 1, name: 'ffm factors' })).toThrow(/ffm factors would take 16\.0 GiB/);
  });
});
