import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { crc32 } from './crc32.ts';

/** The textbook bit-at-a-time CRC-32, as the reference. */
function reference(bytes: Uint8Array): number {
  let c = -1;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ -1) >>> 0;
}

describe('crc32', () => {
  it('matches the standard check value', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(Buffer.alloc(0))).toBe(0);
  });

  it('covers exactly the requested range of a larger buffer, at every length and alignment', () => {
    const buf = randomBytes(4096);
    for (let len = 0; len < 260; len += len < 80 ? 1 : 7) {
      for (const start of [0, 1, 3, 7, 100]) expect(crc32(buf, start, start + len)).toBe(reference(buf.subarray(start, start + len)));
    }
    expect(crc32(buf, 5, 4001)).toBe(reference(buf.subarray(5, 4001)));
  });
});
