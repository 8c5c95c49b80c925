/**
 * The on-disk record frame: [u32 payload length][u32 CRC-32 of payload][payload], little-endian,
 * payload = [u16 key byte length][key UTF-8][value UTF-8]. Offsets are not stored: a record's offset is
 * its segment's base offset plus its index in the segment, so a frame carries nothing to keep consistent.
 */
import { PctrError } from '../../core/index.ts';
import { decodeText } from '../read-batch.ts';
import type { RecordSource } from '../record-buffer.ts';
import { crc32 } from './crc32.ts';

export const FRAME_HEADER_BYTES = 8;
const KEY_LEN_BYTES = 2;
/** Largest payload accepted; a length field above it is read as corruption, not as a huge record. */
export const MAX_PAYLOAD_BYTES = 16 * 1024 * 1024;
const MAX_KEY_BYTES = 0xffff;

/** `checkFrame` results that are not a frame length. */
export const FRAME_INCOMPLETE = -1;
export const FRAME_CORRUPT = -2;

/** Most bytes record i of `src` can take once framed (UTF-8 needs at most 3 bytes per UTF-16 code unit). */
export function maxFrameBytes(src: RecordSource, i: number): number {
  return FRAME_HEADER_BYTES + KEY_LEN_BYTES + 3 * src.key(i).length + src.maxValueBytes(i);
}

/** Write record i of `src` as one frame at `pos` (the caller guarantees `maxFrameBytes` of room); returns the position after it. */
export function writeFrame(buf: Buffer, pos: number, src: RecordSource, i: number): number {
  const p = pos + FRAME_HEADER_BYTES;
  const key = src.key(i);
  const keyBytes = writeKey(buf, p + KEY_LEN_BYTES, key);
  if (keyBytes > MAX_KEY_BYTES) throw new PctrError('PCTR_VALIDATION', `record key is ${keyBytes} bytes; at most ${MAX_KEY_BYTES}`);
  buf[p] = keyBytes & 0xff;
  buf[p + 1] = keyBytes >>> 8;
  const end = src.writeValue(i, buf, p + KEY_LEN_BYTES + keyBytes);
  const len = end - p;
  if (len > MAX_PAYLOAD_BYTES) {
    throw new PctrError('PCTR_VALIDATION', `record of ${len} bytes (key ${key.slice(0, 64)}) exceeds the ${MAX_PAYLOAD_BYTES}-byte limit`);
  }
  putU32(buf, pos, len);
  putU32(buf, pos + 4, crc32(buf, p, end));
  return end;
}

/**
 * The key's UTF-8 bytes at `at`; returns their count. Keys are short ids, mostly ASCII: a JS loop
 * writes those without the ~100 ns of a native encode call; anything else goes through `buf.write`.
 */
function writeKey(buf: Buffer, at: number, key: string): number {
  const n = key.length;
  if (n > 64) return buf.write(key, at);
  for (let k = 0; k < n; k++) {
    const c = key.charCodeAt(k);
    if (c >= 0x80) return buf.write(key, at);
    buf[at + k] = c;
  }
  return n;
}

function putU32(buf: Buffer, at: number, v: number): void {
  buf[at] = v & 0xff;
  buf[at + 1] = (v >>> 8) & 0xff;
  buf[at + 2] = (v >>> 16) & 0xff;
  buf[at + 3] = v >>> 24;
}

function u32(buf: Buffer, at: number): number {
  return (buf[at] | (buf[at + 1] << 8) | (buf[at + 2] << 16) | (buf[at + 3] << 24)) >>> 0;
}

/**
 * Check the frame at `pos` given the bytes `[pos, end)`: its total length when complete and intact,
 * FRAME_INCOMPLETE when `end` cuts it (more may still be written), FRAME_CORRUPT when its length is
 * impossible or its CRC does not match. A frame longer than the buffer reports FRAME_INCOMPLETE
 * too: callers that know the file holds more bytes read a larger window.
 */
export function checkFrame(buf: Buffer, pos: number, end: number): number {
  if (end - pos < FRAME_HEADER_BYTES) return FRAME_INCOMPLETE;
  const len = u32(buf, pos);
  if (len < KEY_LEN_BYTES || len > MAX_PAYLOAD_BYTES) return FRAME_CORRUPT;
  const total = FRAME_HEADER_BYTES + len;
  if (end - pos < total) return FRAME_INCOMPLETE;
  const p = pos + FRAME_HEADER_BYTES;
  if (crc32(buf, p, p + len) !== u32(buf, pos + 4)) return FRAME_CORRUPT;
  if ((buf[p] | (buf[p + 1] << 8)) > len - KEY_LEN_BYTES) return FRAME_CORRUPT;
  return total;
}

export function frameKey(buf: Buffer, pos: number): string {
  const p = pos + FRAME_HEADER_BYTES;
  return decodeText(buf, p + KEY_LEN_BYTES, frameValueStart(buf, pos));
}

/** Where the value of the frame at `pos` starts (it ends with the frame). */
export function frameValueStart(buf: Buffer, pos: number): number {
  const p = pos + FRAME_HEADER_BYTES;
  return p + KEY_LEN_BYTES + (buf[p] | (buf[p + 1] << 8));
}

export function frameValue(buf: Buffer, pos: number, total: number): string {
  return buf.toString('utf8', frameValueStart(buf, pos), pos + total);
}
