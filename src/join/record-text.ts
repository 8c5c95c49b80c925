/**
 * Field access on the JSON of records without parsing the whole object, working on the UTF-8 bytes
 * as the log hands them over. The join reads only `ts` (and `type`) of every impression and click,
 * and builds each labeled example by copying the impression's own bytes with `type` changed and the
 * label appended, so the hot path never decodes a value into a string, nor runs JSON.parse or
 * JSON.stringify over ~400-byte records. Every function falls back to an exact (slower) path when
 * the text is not in the common shape. The structural characters looked for are ASCII, and no byte
 * of a multi-byte UTF-8 character is ASCII, so scanning bytes finds exactly what scanning text would.
 */
import { copyBytes, type RecordBuffer } from '../events/index.ts';

const ascii = (s: string): Buffer => Buffer.from(s, 'latin1');

const QUOTE = 34;
const BACKSLASH = 92;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const COMMA = 44;
const SPACE = 32;

/** Key needles without their opening quote (`name":`): the match is then checked for a quote before it. */
const TS = ascii('ts":');
const TYPE_IMPRESSION = ascii('type":"impression"');
const IMPRESSION_HEAD = '{"type":"impression"';
const IMPRESSION_HEAD_BYTES = ascii(IMPRESSION_HEAD);
const EXAMPLE_HEAD = ascii('{"type":"example"');
const NEGATIVE_TAIL = ascii(',"label":0,"clickTs":null}');
const POSITIVE_TAIL = ascii(',"label":1,"clickTs":');
/** Room for the longest tail (`,"label":1,"clickTs":` and a 16-digit time). */
const TAIL_BYTES = 48;

function startsWith(b: Uint8Array, start: number, end: number, head: Uint8Array): boolean {
  if (end - start < head.length) return false;
  for (let k = 0; k < head.length; k++) if (b[start + k] !== head[k]) return false;
  return true;
}

/**
 * Position of `"name":` as a key of the top-level object in `b[start, end)` (`needle` is `"name":`
 * with its quote), or -1. Scans depth and strings, so a key of the same name inside `features` or
 * inside a string value is never taken for the top-level one.
 */
export function topLevelKeyIndex(b: Uint8Array, start: number, end: number, needle: Uint8Array): number {
  let depth = 0;
  for (let i = start; i < end; i++) {
    const c = b[i];
    if (c === QUOTE) {
      if (depth === 1 && startsWith(b, i, end, needle)) return i;
      for (i++; i < end; i++) {
        const d = b[i];
        if (d === BACKSLASH) i++;
        else if (d === QUOTE) break;
      }
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
    else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
  }
  return -1;
}

/**
 * Position of the top-level key whose `name":` is `needle`, at its opening quote. The first
 * unescaped match counts when no object opens before it (the usual case: `type` and `ts` come before
 * `features`); otherwise an exact scan decides.
 */
function keyIndex(b: Uint8Array, start: number, end: number, needle: Uint8Array, from = start + 1): number {
  const first = needle[0];
  const n = needle.length;
  let brace = false;
  for (let i = from; i + n <= end; i++) {
    const c = b[i];
    if (c === OPEN_BRACE) brace = true;
    if (c !== first || b[i - 1] !== QUOTE || (i - 2 >= start && b[i - 2] === BACKSLASH) || !startsWith(b, i, end, needle)) continue;
    if (!brace) return i - 1;
    const quoted = new Uint8Array(n + 1);
    quoted[0] = QUOTE;
    quoted.set(needle, 1);
    return topLevelKeyIndex(b, start, end, quoted);
  }
  return -1;
}

/**
 * The top-level `ts` of a record as a non-negative integer (epoch ms), or NaN when it is missing or
 * not a plain integer. Integers of up to 15 digits only, so the value is exact.
 */
export function readTsBytes(b: Uint8Array, start: number, end: number): number {
  // An impression's head (no `ts` key, no nested object in it) need not be scanned.
  const i = keyIndex(b, start, end, TS, startsWith(b, start, end, IMPRESSION_HEAD_BYTES) ? start + IMPRESSION_HEAD_BYTES.length : start + 1);
  if (i < 0) return NaN;
  let j = i + 1 + TS.length;
  while (j < end && b[j] === SPACE) j++;
  let v = 0;
  const from = j;
  for (; j < end; j++) {
    const d = b[j] - 48;
    if (d < 0 || d > 9) break;
    v = v * 10 + d;
  }
  const digits = j - from;
  if (digits === 0 || digits > 15) return NaN;
  while (j < end && b[j] === SPACE) j++;
  const next = b[j];
  return j < end && (next === COMMA || next === CLOSE_BRACE) ? v : NaN;
}

/** `readTsBytes` of a text. */
export function readTs(json: string): number {
  const b = Buffer.from(json);
  return readTsBytes(b, 0, b.length);
}

/** True when the record is a top-level `"type":"impression"` object. */
export function isImpressionBytes(b: Uint8Array, start: number, end: number): boolean {
  return startsWith(b, start, end, IMPRESSION_HEAD_BYTES) || keyIndex(b, start, end, TYPE_IMPRESSION) >= 0;
}

export function exampleText(impressionJson: string, label: 0 | 1, clickTs: number | null): string | null {
  const b = Buffer.from(impressionJson);
  const out = { used: 0, buf: b, reserve: (bytes: number) => (out.buf = Buffer.allocUnsafe(bytes)) };
  const end = fastExample(b, 0, b.length, label, clickTs, out);
  return end >= 0 ? out.buf.toString('utf8', 0, end) : slowExampleText(impressionJson, label, clickTs);
}

/**
 * Append the labeled example of the impression `b[start, end)` to `out` (the text `exampleText`
 * gives): in the common shape, the impression's bytes are copied with the head changed and the label
 * appended, building no string. False when the bytes are not an impression object.
 */
export function writeExample(out: RecordBuffer, key: string, b: Buffer, start: number, end: number, label: 0 | 1, clickTs: number | null): boolean {
  const written = fastExample(b, start, end, label, clickTs, out);
  if (written >= 0) {
    out.push(key, written);
    return true;
  }
  const text = slowExampleText(b.toString('utf8', start, end), label, clickTs);
  if (text === null) return false;
  out.add(key, text);
  return true;
}

/**
 * The common shape, `{"type":"impression"…}` → `{"type":"example"…,"label":…,"clickTs":…}`, written at
 * `out.used` of the buffer `out.reserve` gives; returns where it ends, or -1 for any other shape.
 */
function fastExample(b: Buffer, start: number, end: number, label: 0 | 1, clickTs: number | null, out: { readonly used: number; reserve(bytes: number): Buffer }): number {
  const close = compactClose(b, start, end);
  if (close < 0) return -1;
  const buf = out.reserve(compactExampleBytes(start, close));
  return writeCompactExample(b, start, close, label, clickTs, buf, out.used);
}

/**
 * For an impression in the common shape (`{"type":"impression"…}`), the position of its closing
 * brace; -1 for any other shape (which `exampleText` handles by parsing).
 */
export function compactClose(b: Uint8Array, start: number, end: number): number {
  if (!startsWith(b, start, end, IMPRESSION_HEAD_BYTES)) return -1;
  let close = end - 1;
  while (close > start && b[close] !== CLOSE_BRACE) close--;
  return close < start + IMPRESSION_HEAD_BYTES.length ? -1 : close;
}

/** Most bytes the example of the compact impression `b[start, close]` takes. */
export function compactExampleBytes(start: number, close: number): number {
  return EXAMPLE_HEAD.length + (close - start - IMPRESSION_HEAD_BYTES.length) + TAIL_BYTES;
}

/**
 * Write the example of the compact impression `b[start, close]` (see `compactClose`) at `dst[pos]`;
 * returns the position after it. Constant pieces are copied as bytes and the click time written as
 * digits: no string is encoded.
 */
export function writeCompactExample(b: Uint8Array, start: number, close: number, label: 0 | 1, clickTs: number | null, dst: Buffer, pos: number): number {
  dst.set(EXAMPLE_HEAD, pos);
  let p = copyBytes(b, start + IMPRESSION_HEAD_BYTES.length, close, dst, pos + EXAMPLE_HEAD.length);
  if (label === 0) {
    dst.set(NEGATIVE_TAIL, p);
    return p + NEGATIVE_TAIL.length;
  }
  dst.set(POSITIVE_TAIL, p);
  p += POSITIVE_TAIL.length;
  p = Number.isSafeInteger(clickTs) && (clickTs as number) >= 0 ? writeDigits(dst, p, clickTs as number) : p + dst.write(String(clickTs), p, 'latin1');
  dst[p] = CLOSE_BRACE;
  return p + 1;
}

/**
 * The decimal digits of a non-negative safe integer at `p`; returns the position after them. Split
 * into two parts below 1e8, so every digit comes from int32 arithmetic (a double `%` is a C call).
 */
function writeDigits(buf: Buffer, p: number, v: number): number {
  const hi = Math.floor(v / 1e8);
  let lo = v - hi * 1e8;
  if (hi === 0) return writeSmall(buf, p, lo);
  p = writeSmall(buf, p, hi);
  for (let k = p + 7; k >= p; k--) {
    const q = (lo / 10) | 0;
    buf[k] = 48 + lo - q * 10;
    lo = q;
  }
  return p + 8;
}

/** Digits of an integer in [0, 1e8). */
function writeSmall(buf: Buffer, p: number, v: number): number {
  let digits = 1;
  for (let x = v; x >= 10; x = (x / 10) | 0) digits++;
  for (let k = p + digits - 1; k >= p; k--) {
    const q = (v / 10) | 0;
    buf[k] = 48 + v - q * 10;
    v = q;
  }
  return p + digits;
}

export function slowExampleText(json: string, label: 0 | 1, clickTs: number | null): string | null {
  let obj: unknown;
  try {
    obj = JSON.parse(json);
  } catch {
    return null;
  }
  if (obj === null || typeof obj !== 'object' || (obj as { type?: unknown }).type !== 'impression') return null;
  return JSON.stringify({ ...(obj as object), type: 'example', label, clickTs });
}

/** Why a click could not be attributed. */
export type UnattributedReason = 'late' | 'unknown';

/**
 * A record of the `unattributed-clicks` topic: the click, why it was not attributed, and for late
 * clicks the impression's event time (so the delay beyond the window can be measured).
 */
export interface UnattributedClick {
  readonly type: 'unattributed-click';
  readonly reason: UnattributedReason;
  readonly impressionId: string;
  readonly ts: number;
  readonly impressionTs: number | null;
}

export function unattributedText(reason: UnattributedReason, impressionId: string, ts: number, impressionTs: number | null): string {
  return `{"type":"unattributed-click","reason":"${reason}","impressionId":${JSON.stringify(impressionId)},"ts":${ts},"impressionTs":${impressionTs}}`;
}

/** A record the join cannot read (no integer `ts`, wrong `type`), kept on the dead-letter topic with where it came from. */
export function deadLetterText(topic: string, partition: number, offset: number, reason: string, value: string): string {
  return JSON.stringify({ type: 'dead-letter', source: 'join', topic, partition, offset, reason, value });
}
