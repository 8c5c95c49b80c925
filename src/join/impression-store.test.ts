import { describe, expect, it } from 'vitest';
import { CLOSED, ImpressionStore, POSITIVE } from './impression-store.ts';
import { textRecord } from './join-record.ts';
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

const rec = (key: string, value: string, offset: number) => textRecord(key, value, offset);
const valueOf = (store: ImpressionStore, seq: number) => store.valueBytes(seq).toString('utf8', store.valueStart(seq), store.valueEnd(seq));

describe('ImpressionStore', () => {
  it('keeps every entry through wrap-around and growth, and frees from the head', () => {
    const store = new ImpressionStore(4);
    const seqs: number[] = [];
    for (let i = 0; i < 3; i++) seqs.push(store.add(rec(`k${i}`, `v${i}`, 100 + i), i * 10, 0, -1, true));
    store.close(seqs[0]);
    store.freeHead((seq) => (store.flags(seq) & CLOSED) !== 0);
    expect(store.find('k0')).toBe(-1);
    for (let i = 3; i < 40; i++) seqs.push(store.add(rec(`k${i}`, `v${i}`, 100 + i), i * 10, i % 3 === 0 ? POSITIVE : 0, -1, true));
    expect(store.size).toBe(39);
    for (let i = 1; i < 40; i++) {
      const seq = store.find(`k${i}`);
      expect([store.key(seq), valueOf(store, seq), store.ts(seq), store.offset(seq)]).toEqual([`k${i}`, `v${i}`, i * 10, 100 + i]);
    }
    expect(store.oldestOffset(-1)).toBe(101);
    expect(store.offsetsWith(POSITIVE)).toEqual(Array.from({ length: 13 }, (_, i) => 103 + 3 * i));
    store.add(rec('k5', 'again', 999), 999, 0, store.find('k5'), true);
    expect(valueOf(store, store.find('k5'))).toBe('again');
    store.freeHead((seq) => store.offset(seq) <= 105);
    expect(valueOf(store, store.find('k5'))).toBe('again');
    store.freeHead(() => true);
    expect(store.size).toBe(0);
    expect(store.find('k5')).toBe(-1);
    expect(store.oldestOffset(-1)).toBe(-1);
  });

  it('finds exactly the keys a Map would, through collisions, replacements, frees and growth', () => {
    const store = new ImpressionStore(8);
    const model = new Map<string, number>();
    const alive: { key: string; seq: number }[] = [];
    let rng = 12345;
    const rand = (n: number) => {
      rng = (Math.imul(rng, 1103515245) + 12345) >>> 0;
      return rng % n;
    };
    for (let step = 0; step < 40_000; step++) {
      const r = rand(10);
      if (r < 6) {
        // Few distinct keys, so replacements are common and probe runs long.
        const key = `id${rand(3000)}`;
        const prev = store.find(key);
        expect(prev).toBe(model.get(key) ?? -1);
        const seq = store.add(rec(key, key, step), step, 0, prev, false);
        model.set(key, seq);
        alive.push({ key, seq });
      } else if (r < 9 && alive.length > 0) {
        const n = 1 + rand(Math.min(50, alive.length));
        let freed = 0;
        store.freeHead(() => freed++ < n);
        for (const { key, seq } of alive.splice(0, n)) if (model.get(key) === seq) model.delete(key);
      } else {
        const key = `id${rand(3000)}`;
        expect(store.find(key), key).toBe(model.get(key) ?? -1);
      }
    }
    for (let k = 0; k < 3000; k++) expect(store.find(`id${k}`)).toBe(model.get(`id${k}`) ?? -1);
  });
});
