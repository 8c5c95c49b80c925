/**
 * Field access on the JSON text of records without parsing the whole object. The join reads only
 * `ts` (and `type`) of every impression and click, and builds each labeled example by editing the
 * impression's own text, so the hot path never runs JSON.parse/JSON.stringify over ~400-byte records.
 * Every function falls back to an exact (slower) path when the text is not in the common shape.
 */

const TS = 'ts":';
const TYPE_IMPRESSION = '"type":"impression"';
const TYPE_IMPRESSION_KEY = 'type":"impression"';
const TYPE_EXAMPLE = '"type":"example"';

/**
 * Index of `"name":` as a key of the top-level object, or -1. Scans depth and strings, so a key of
 * the same name inside `features` or inside a string value is never taken for the top-level one.
 */
export function topLevelKeyIndex(json: string, needle: string): number {
  let depth = 0;
  const n = json.length;
  for (let i = 0; i < n; i++) {
    const c = json.charCodeAt(i);
    if (c === 34 /* " */) {
      if (depth === 1 && json.startsWith(needle, i)) return i;
      for (i++; i < n; i++) {
        const d = json.charCodeAt(i);
        if (d === 92 /* \ */) i++;
        else if (d === 34) break;
      }
    } else if (c === 123 /* { */ || c === 91 /* [ */) depth++;
    else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
  }
  return -1;
}

/**
 * Position of the top-level key `"name":` (`needle` is `name":`, without the opening quote, because
 * V8 finds a pattern starting with a rarer character much faster). The first match counts when no
 * object opens before it (the usual case: `type` and `ts` come before `features`); else an exact scan.
 */
function keyIndex(json: string, needle: string): number {
  let i = json.indexOf(needle, 1);
  while (i > 0 && (json.charCodeAt(i - 1) !== 34 || json.charCodeAt(i - 2) === 92)) i = json.indexOf(needle, i + 1);
  if (i < 0) return -1;
  const brace = json.indexOf('{', 1);
  if (brace === -1 || brace > i) return i - 1;
  return topLevelKeyIndex(json, `"${needle}`);
}

/**
 * The top-level `ts` of a record as a non-negative integer (epoch ms), or NaN when it is missing or
 * not a plain integer. Integers of up to 15 digits only, so the value is exact.
 */
export function readTs(json: string): number {
  const i = keyIndex(json, TS);
  if (i < 0) return NaN;
  let j = i + TS.length + 1;
  while (json.charCodeAt(j) === 32) j++;
  let v = 0;
  const start = j;
  for (; ; j++) {
    const d = json.charCodeAt(j) - 48;
    if (d < 0 || d > 9) break;
    v = v * 10 + d;
  }
  const digits = j - start;
  if (digits === 0 || digits > 15) return NaN;
  while (json.charCodeAt(j) === 32) j++;
  const next = json.charCodeAt(j);
  return next === 44 /* , */ || next === 125 /* } */ ? v : NaN;
}

const IMPRESSION_HEAD = '{' + TYPE_IMPRESSION;

/** True when the record is a top-level `"type":"impression"` object. */
export function isImpressionText(json: string): boolean {
  return json.startsWith(IMPRESSION_HEAD) || keyIndex(json, TYPE_IMPRESSION_KEY) >= 0;
}

/**
 * The labeled example for an impression: the impression's text with `type` changed to `example`
 * and `label`/`clickTs` appended. Null when the text is not an impression object.
 */
export function exampleText(impressionJson: string, label: 0 | 1, clickTs: number | null): string | null {
  const tail = label === 1 ? `,"label":1,"clickTs":${clickTs}}` : ',"label":0,"clickTs":null}';
  const end = impressionJson.lastIndexOf('}');
  if (impressionJson.startsWith(IMPRESSION_HEAD)) return '{"type":"example"' + impressionJson.slice(IMPRESSION_HEAD.length, end) + tail;
  const i = keyIndex(impressionJson, TYPE_IMPRESSION_KEY);
  if (i < 0 || end < 0) return slowExampleText(impressionJson, label, clickTs);
  return impressionJson.slice(0, i) + TYPE_EXAMPLE + impressionJson.slice(i + TYPE_IMPRESSION.length, end) + tail;
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
