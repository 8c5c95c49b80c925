/**
 * Field access on the JSON of records without parsing the whole object, working on the UTF-8 bytes
 * as the log hands them over. The join reads only `ts` (and `type`) of every impression and click,
 * and builds each labeled example by copying the impression's own bytes with `type` changed and the
 * label appended, so the hot path never decodes a value into a string, nor runs JSON.parse or
 * JSON.stringify over ~400-byte records. Every function falls back to an exact (slower) path when
 * the text is not in the common shape. The structural characters looked for are ASCII, and no byte
 * of a multi-byte UTF-8 character is ASCII, so scanning bytes finds exactly what scanning text would.
 */
import type { RecordBuffer } from '../events/index.ts';

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
const EXAMPLE_HEAD = '{"type":"example"';
const NEGATIVE_TAIL = ',"label":0,"clickTs":null}';
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
function keyIndex(b: Uint8Array, start: number, end: number, needle: Uint8Array): number {
  const first = needle[0];
  const n = needle.length;
  let brace = false;
  for (let i = start + 1; i + n <= end; i++) {
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
  const i = keyIndex(b, start, end, TS);
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
  if (!startsWith(b, start, end, IMPRESSION_HEAD_BYTES)) return -1;
  let close = end - 1;
  while (close > start && b[close] !== CLOSE_BRACE) close--;
  const bodyStart = start + IMPRESSION_HEAD_BYTES.length;
  if (close < bodyStart) return -1;
  const buf = out.reserve(EXAMPLE_HEAD.length + (close - bodyStart) + TAIL_BYTES);
  let p = out.used;
  p += buf.write(EXAMPLE_HEAD, p, 'latin1');
  p += b.copy(buf, p, bodyStart, close);
  return p + buf.write(label === 1 ? `,"label":1,"clickTs":${clickTs}}` : NEGATIVE_TAIL, p, 'latin1');
}

function slowExampleText(json: string, label: 0 | 1, clickTs: number | null): string | null {
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
