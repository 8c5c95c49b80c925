import { describe, expect, it } from 'vitest';
import { hashCategory } from '../../core/index.ts';
import type { FeatureSchema, RawBatch } from '../../core/index.ts';
import { log2Bin, MISSING_BIN, NumericSample, quantileBin, quantileBoundaries } from './bins.ts';
import { FeatureEncoder } from './encoder.ts';
import { EncodingParams, encodingSpecOf } from './encoding-spec.ts';

const schema: FeatureSchema = {
  fields: [
    { name: 'ad', kind: 'categorical' },
    { name: 'count', kind: 'numeric' },
    { name: 'site', kind: 'categorical' },
  ],
};

function batch(rows: [string | null, number, string | null][], s: FeatureSchema = schema): RawBatch {
  const col = (name: string): Int32Array | Float32Array => {
    const i = schema.fields.findIndex((f) => f.name === name);
    if (schema.fields[i].kind === 'numeric') return Float32Array.from(rows, (r) => r[i] as number);
    return Int32Array.from(rows, (r) => (r[i] === null ? 0 : hashCategory(r[i] as string)));
  };
  return { n: rows.length, schema: s, columns: s.fields.map((f) => col(f.name)), labels: Uint8Array.from(rows, (_, i) => i % 2) };
}

const spec = (params: Record<string, unknown> = {}) => encodingSpecOf(EncodingParams.parse(params));
const rowTokens = (enc: { offsets: Int32Array; indices: Int32Array }, r: number) => Array.from(enc.indices.subarray(enc.offsets[r], enc.offsets[r + 1]));

describe('log2 and quantile bins', () => {
  it('keeps small integers, gives half-octave bins above 2 and a bin of its own to missing values', () => {
    expect([-40, -3, 0, 1, 1.5, 2, 3, 4, 1000].map(log2Bin)).toEqual([-16, -3, 0, 1, 1, 3, 4, 5, 20]);
    expect(log2Bin(NaN)).toBe(MISSING_BIN);
  });

  it('with rateBins, gives rates in (0, 1) bins per octave of their own, leaving counts as they were', () => {
    expect([0.03, 0.031, 0.05, 0.5, 0.99].map((v) => log2Bin(v, 4))).toEqual([-37, -37, -34, -21, -17]);
    expect([0.03, 0.5].map((v) => log2Bin(v))).toEqual([0, 0]);
    expect([-3, 0, 1, 1.5, 2, 1000].map((v) => log2Bin(v, 4))).toEqual([-3, 0, 1, 1, 3, 20]);
  });

  it('fits distinct quantile boundaries and bins by them', () => {
    const b = quantileBoundaries(Float64Array.from({ length: 100 }, (_, i) => i), 4);
    expect(b).toEqual([25, 50, 75]);
    expect(quantileBoundaries(Float64Array.from([0, 0, 0, 0, 5, 9]), 3)).toEqual([0, 5]);
    const bounds = Float64Array.from(b);
    expect([0, 24.9, 25, 60, 99, NaN].map((v) => quantileBin(v, bounds))).toEqual([0, 0, 1, 2, 3, MISSING_BIN]);
  });

  it('samples numeric fields by name, skipping missing values', () => {
    const sample = new NumericSample(['count'], 3);
    sample.add(batch([['a', NaN, 'x'], ['a', 4, 'x']]));
    expect(sample.full).toBe(false);
    sample.add(batch([['a', 1, 'x'], ['a', 9, 'x'], ['a', 100, 'x']]));
    expect(sample.full).toBe(true);
    expect(sample.boundaries(2)).toEqual({ count: [4] });
  });
});

describe('FeatureEncoder', () => {
  it('gives every row one token per field, per cross and a bias, with field ids by slot', () => {
    const enc = new FeatureEncoder(schema, spec({ bits: 18, crosses: 'ad:site' }));
    const out = enc.encode(batch([['a1', 3, 's1'], ['a2', NaN, null]]));
    expect(enc.width).toBe(5);
    expect(out.n).toBe(2);
    expect(Array.from(out.offsets.subarray(0, 3))).toEqual([0, 5, 10]);
    expect(Array.from(out.fields.subarray(0, 5))).toEqual([0, 1, 2, 3, 4]);
    expect(Array.from(out.values.subarray(0, 10))).toEqual(new Array(10).fill(1));
    expect(rowTokens(out, 0)[4]).toBe(enc.biasIndex);
    for (const i of out.indices.subarray(0, 10)) expect(i >>> 0).toBeLessThan(1 << 18);
    expect(new Set(rowTokens(out, 0)).size).toBe(5);
  });

  it('encodes the same value of different fields differently, and missing values as tokens of their own', () => {
    const enc = new FeatureEncoder(schema, spec());
    const out = enc.encode(batch([['x', 1, 'x'], [null, NaN, null], ['y', 1, null]]));
    const [r0, r1, r2] = [rowTokens(out, 0), rowTokens(out, 1), rowTokens(out, 2)];
    expect(r0[0]).not.toBe(r0[2]);
    expect(r1[0]).not.toBe(r1[2]);
    expect(r1[1]).not.toBe(r0[1]);
    expect(r2[1]).toBe(r0[1]);
    expect(r2[2]).toBe(r1[2]);
  });

  it('reads columns by name, so the column order of the batch does not matter', () => {
    const enc = new FeatureEncoder(schema, spec({ crosses: [['site', 'count']] }));
    const rows: [string | null, number, string | null][] = [['a1', 7, 's1'], ['a2', NaN, 's2']];
    const first = Array.from(enc.encode(batch(rows)).indices.subarray(0, 2 * enc.width));
    const reordered: FeatureSchema = { fields: [schema.fields[2], schema.fields[0], schema.fields[1]] };
    expect(Array.from(enc.encode(batch(rows, reordered)).indices.subarray(0, 2 * enc.width))).toEqual(first);
  });

  it('reuses its buffers, and names a field the batch lacks', () => {
    const enc = new FeatureEncoder(schema, spec());
    const a = enc.encode(batch([['a', 1, 's']]));
    const b = enc.encode(batch([['b', 2, 't']]));
    expect(b).toBe(a);
    expect(b.indices).toBe(a.indices);
    const partial: RawBatch = { n: 1, schema: { fields: [schema.fields[0]] }, columns: [Int32Array.of(1)] };
    expect(() => enc.encode(partial)).toThrow(/no field count/);
    expect(() => new FeatureEncoder(schema, spec({ crosses: 'ad:nope' }))).toThrow(/cross nope/);
  });

  it('reads only the fields the spec selects, by name or prefix, and leaves specs without them as they were', () => {
    const enc = new FeatureEncoder(schema, spec({ fields: 'ad,si*', crosses: 'ad:site' }));
    expect(enc.schema.fields.map((f) => f.name)).toEqual(['ad', 'site']);
    expect(enc.width).toBe(4);
    const a = enc.encode(batch([['a1', 3, 's1']]));
    const t = rowTokens(a, 0);
    expect(rowTokens(enc.encode(batch([['a1', 999, 's1']])), 0)).toEqual(t);
    expect(spec()).not.toHaveProperty('fields');
    expect(spec()).not.toHaveProperty('rateBins');
    expect(() => new FeatureEncoder(schema, spec({ fields: 'nope' }))).toThrow(/select no field/);
  });

  it('bins numeric fields by fitted quantiles when asked', () => {
    const enc = new FeatureEncoder(schema, { ...spec({ numeric: 'quantile' }), boundaries: { count: [10, 100] } });
    const out = enc.encode(batch([['a', 5, 's'], ['a', 9, 's'], ['a', 50, 's']]));
    expect(rowTokens(out, 0)[1]).toBe(rowTokens(out, 1)[1]);
    expect(rowTokens(out, 2)[1]).not.toBe(rowTokens(out, 0)[1]);
    // Unfitted bins: the encoder can be made (a learner fits them in fit), but not encode.
    expect(() => new FeatureEncoder(schema, spec({ numeric: 'quantile' })).encode(batch([['a', 5, 's']]))).toThrow(/not fitted/);
  });
});
