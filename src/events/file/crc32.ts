/**
 * CRC-32 (IEEE 802.3, the zlib/PNG polynomial) of a byte range of a larger buffer, so checking or
 * stamping a record inside a batch buffer needs no copy. zlib's native crc32 costs a view per call
 * but still measured ~25% faster than a slice-by-8 table loop in JS at ~400-byte records (and ~2×
 * on large ones).
 */
import { crc32 as zlibCrc32 } from 'node:zlib';

/** CRC-32 of `buf[start, end)`, as an unsigned 32-bit integer. */
export function crc32(buf: Uint8Array, start = 0, end = buf.length): number {
  return zlibCrc32(start === 0 && end === buf.length ? buf : buf.subarray(start, end));
}
