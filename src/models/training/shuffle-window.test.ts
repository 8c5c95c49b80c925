import { describe, expect, it } from 'vitest';
import type { EncodedBatch } from '../encoding/encoder.ts';
import { Random } from './random.ts';
import { ShuffleWindow } from './shuffle-window.ts';

/** n rows of `width` tokens; row r holds tokens 100r, 100r + 1, … and label r % 2. */
function rows(n: number, width: number, first = 0): EncodedBatch {
  return {
    n,
    offsets: Int32Array.from({ length: n + 1 }, (_, r) => r * width),
    indices: Int32Array.from({ length: n * width }, (_, i) => 100 * (first + Math.floor(i / width)) + (i % width)),
    values: new Float32Array(n * width).fill(1),
    fields: Uint16Array.from({ length: n * width }, (_, i) => i % width),
    labels: Uint8Array.from({ length: n }, (_, r) => (first + r) % 2),
  };
}

describe('ShuffleWindow', () => {
  it('copies rows across batches until full, then drains them intact', () => {
    const w = new ShuffleWindow(5);
    expect(w.add(rows(3, 2), 0)).toBe(3);
    expect(w.add(rows(4, 2, 3), 0)).toBe(2);
    expect(w.full).toBe(true);
    const b = w.drain();
    expect(b.n).toBe(5);
    expect(Array.from(b.offsets.subarray(0, 6))).toEqual([0, 2, 4, 6, 8, 10]);
    expect(Array.from(b.indices.subarray(0, 10))).toEqual([0, 1, 100, 101, 200, 201, 300, 301, 400, 401]);
    expect(Array.from(b.labels!.subarray(0, 5))).toEqual([0, 1, 0, 1, 0]);
    expect(w.size).toBe(0);
    expect(w.add(rows(4, 2, 3), 2)).toBe(2);
    expect(Array.from(w.drain().indices.subarray(0, 4))).toEqual([500, 501, 600, 601]);
  });

  it('visits every row once in a seeded order', () => {
    const order = new Random(7).permutation(new Int32Array(1000), 1000);
    expect(Array.from(order).sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(order).toEqual(new Random(7).permutation(new Int32Array(1000), 1000));
    expect(order).not.toEqual(new Random(8).permutation(new Int32Array(1000), 1000));
  });
});
