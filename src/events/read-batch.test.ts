import { describe, expect, it } from 'vitest';
import { decodeText } from './read-batch.ts';

describe('decodeText', () => {
  it('decodes UTF-8 exactly like Buffer#toString, for short ASCII, multi-byte and long text', () => {
    for (const text of ['', 'a', 'sim7.i4o', 'x'.repeat(32), 'x'.repeat(33), 'ü', 'id-名前', '😀', `${'a'.repeat(31)}é`, 'é'.repeat(40)]) {
      const buf = Buffer.concat([Buffer.from('<<'), Buffer.from(text), Buffer.from('>>')]);
      expect(decodeText(buf, 2, buf.length - 2)).toBe(text);
    }
  });
});
