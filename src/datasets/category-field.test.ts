import { describe, expect, it } from 'vitest';
import { hashCategory } from '../core/index.ts';
import { scanCategory } from './category-field.ts';

describe('scanCategory', () => {
  it('hashes a field exactly as hashCategory does, for even, odd, empty and non-ASCII values', () => {
    const col = new Int32Array(1);
    for (const value of ['68fd1e64', 'abc', 'a', '', 'x'.repeat(33), 'café', 'naïve-值']) {
      const buf = Buffer.from(`${value}\tnext`, 'utf8');
      const end = scanCategory(buf, 0, buf.length, 9, col, 0);
      expect(end).toBe(Buffer.byteLength(value));
      expect(col[0]).toBe(value === '' ? 0 : hashCategory(value));
    }
  });

  it('stops at the end of the range when no delimiter follows', () => {
    const col = new Int32Array(2);
    const buf = Buffer.from('xx,abcde', 'latin1');
    expect(scanCategory(buf, 3, buf.length, 44, col, 1)).toBe(buf.length);
    expect(col[1]).toBe(hashCategory('abcde'));
  });
});
