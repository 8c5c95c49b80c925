import { describe, expect, it } from 'vitest';
import { CLOSED, ImpressionStore, POSITIVE } from './impression-store.ts';
import { MinHeap } from './min-heap.ts';

describe('MinHeap', () => {
  it('pops values in key order whatever the push order, growing as needed', () => {
    const heap = new MinHeap(2);
    const keys = Array.from({ length: 5000 }, (_, i) => (i * 7919) % 5003);
    keys.forEach((k, i) => heap.push(k, i));
    const popped: number[] = [];
    while (heap.size > 0) {
      const k = heap.peekKey();
      expect(keys[heap.pop()]).toBe(k);
      popped.push(k);
    }
    expect(popped).toEqual([...keys].sort((a, b) => a - b));
    expect(heap.peekKey()).toBe(Infinity);
  });
});

describe('ImpressionStore', () => {
  it('keeps every entry through wrap-around and growth, and frees from the head', () => {
    const store = new ImpressionStore(4);
    const seqs: number[] = [];
    for (let i = 0; i < 3; i++) seqs.push(store.add(`k${i}`, `v${i}`, i * 10, 100 + i, 0));
    store.close(seqs[0]);
    store.freeHead((seq) => (store.flags(seq) & CLOSED) !== 0);
    expect(store.find('k0')).toBe(-1);
    for (let i = 3; i < 40; i++) seqs.push(store.add(`k${i}`, `v${i}`, i * 10, 100 + i, i % 3 === 0 ? POSITIVE : 0));
    expect(store.size).toBe(39);
    for (let i = 1; i < 40; i++) {
      const seq = store.find(`k${i}`);
      expect([store.key(seq), store.value(seq), store.ts(seq), store.offset(seq)]).toEqual([`k${i}`, `v${i}`, i * 10, 100 + i]);
    }
    expect(store.oldestOffset(-1)).toBe(101);
    expect(store.offsetsWith(POSITIVE)).toEqual(Array.from({ length: 13 }, (_, i) => 103 + 3 * i));
    store.add('k5', 'again', 999, 999, 0, store.find('k5'));
    expect(store.value(store.find('k5'))).toBe('again');
    store.freeHead((seq) => store.offset(seq) <= 105);
    expect(store.value(store.find('k5'))).toBe('again');
    store.freeHead(() => true);
    expect(store.size).toBe(0);
    expect(store.find('k5')).toBe(-1);
    expect(store.oldestOffset(-1)).toBe(-1);
  });
});
