import { randomBytes } from 'node:crypto';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32 } from './crc32.ts';

describe('crc32 (slice-by-8)', () => {
  it('matches the standard check value', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(Buffer.alloc(0))).toBe(0);
  });

  it('matches zlib on random ranges of a buffer, for every length and alignment', () => {
    const buf = randomBytes(4096);
    for (let len = 0; len < 80; len++) {
      for (const start of [0, 1, 3, 7, 100]) expect(crc32(buf, start, start + len)).toBe(zlibCrc32(buf.subarray(start, start + len)));
    }
    expect(crc32(buf, 5, 4001)).toBe(zlibCrc32(buf.subarray(5, 4001)));
  });
});
