/**
 * Reading the records the monitor consumes, cheaply: every served impression and every labeled
 * example passes here, in the gateway's process when the dashboard runs there. The few fields
 * counted for every record are picked out with indexOf where the producer's layout allows (no
 * object built); the `features` object — most of a record's bytes — is parsed only for the bounded
 * sample that drift and curves take. The monitor only observes, so a record it cannot read is
 * counted and skipped; the join and the gateway are where bad input is rejected.
 */
import type { FeatureValue } from '../core/index.ts';

export type Features = Readonly<Record<string, FeatureValue>>;

const FEATURES = '"features":';

/**
 * The JSON number of top-level key `key` (with quotes and colon, e.g. `"ts":`), found before
 * position `before` (the features object, the only nested value of these records, so a feature
 * named like a field cannot be mistaken for it); NaN when absent or not a plain number.
 */
function numberBefore(text: string, key: string, before: number): number {
  const at = text.indexOf(key);
  if (at < 0 || at > before) return NaN;
  return plainNumber(text, at + key.length);
}

function plainNumber(text: string, s: number): number {
  let e = s;
  for (; e < text.length; e++) {
    const c = text.charCodeAt(e);
    // Digits, sign, point, exponent: a JSON number's characters.
    if (!((c >= 48 && c <= 57) || c === 45 || c === 46 || c === 43 || c === 101 || c === 69)) break;
  }
  return e > s ? Number(text.slice(s, e)) : NaN;
}

/** The JSON string value of a top-level key before `before`; null when absent, not a string, or escaped (the caller falls back to JSON.parse). */
function stringBefore(text: string, key: string, before: number): string | null {
  const at = text.indexOf(key);
  if (at < 0 || at > before) return null;
  const s = at + key.length;
  if (text.charCodeAt(s) !== 34) return null;
  const e = text.indexOf('"', s + 1);
  if (e < 0) return null;
  const v = text.slice(s + 1, e);
  return v.includes('\\') ? null : v;
}

type Json = Record<string, unknown>;

function parse(text: string): Json | null {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : null;
  } catch {
    return null;
  }
}

const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const isStr = (x: unknown): x is string => typeof x === 'string';
const isObj = (x: unknown): x is Json => x !== null && typeof x === 'object' && !Array.isArray(x);

/** A record's features, parsed on demand (null when the record is not valid JSON or has none). */
export function featuresOf(r: { readonly text: string }): Features | null {
  const features = parse(r.text)?.features;
  return isObj(features) ? (features as Features) : null;
}

/** What every impression is counted by; the rest is read for the sampled ones (`servedAd`). */
export interface ImpressionView {
  readonly text: string;
  readonly requestId: string;
  readonly ts: number;
  readonly position: number;
  readonly pCTR: number;
  readonly modelVersion: string;
}

/** The served ad of a sampled impression, with its features. */
export interface ServedAd {
  readonly userId: string;
  readonly adId: string;
  readonly campaignId: string;
  readonly bid: number;
  readonly features: Features;
}

export interface ExampleView {
  readonly text: string;
  /** The impression's event time. */
  readonly ts: number;
  readonly pCTR: number;
  readonly modelVersion: string;
  readonly label: 0 | 1;
}

export interface UnattributedView {
  readonly reason: 'late' | 'unknown';
  readonly ts: number;
}

const finite = Number.isFinite;

/**
 * The gateway writes every field an impression needs before its features: found with indexOf, no
 * object is built. Any other layout (or an escaped string) is read with JSON.parse.
 */
export function readImpression(text: string): ImpressionView | null {
  const f = text.indexOf(FEATURES);
  if (f > 0 && text.startsWith('{"type":"impression"')) {
    const ts = numberBefore(text, '"ts":', f);
    const pCTR = numberBefore(text, '"pCTR":', f);
    const position = numberBefore(text, '"position":', f);
    const requestId = stringBefore(text, '"requestId":', f);
    const modelVersion = stringBefore(text, '"modelVersion":', f);
    if (finite(ts) && finite(pCTR) && finite(position) && requestId !== null && modelVersion !== null) return { text, requestId, ts, position, pCTR, modelVersion };
  }
  const r = parse(text);
  if (r === null || r.type !== 'impression') return null;
  const { requestId, ts, position, pCTR, modelVersion } = r;
  if (!isNum(ts) || !isNum(pCTR) || !isNum(position) || !isStr(modelVersion) || !isStr(requestId)) return null;
  return { text, requestId, ts, position, pCTR, modelVersion };
}

/** The ad and features of an impression (a full parse: for sampled impressions only). */
export function servedAd(imp: ImpressionView): ServedAd | null {
  const r = parse(imp.text);
  if (r === null) return null;
  const { userId, adId, campaignId, bid, features } = r;
  if (!isStr(userId) || !isStr(adId) || !isStr(campaignId) || !isNum(bid) || !isObj(features)) return null;
  return { userId, adId, campaignId, bid, features: features as Features };
}

/** The join writes an example's label last, after its features (and the impression's fields before them). */
export function readExample(text: string): ExampleView | null {
  const f = text.indexOf(FEATURES);
  if (f > 0 && text.startsWith('{"type":"example"')) {
    const ts = numberBefore(text, '"ts":', f);
    const pCTR = numberBefore(text, '"pCTR":', f);
    const modelVersion = stringBefore(text, '"modelVersion":', f);
    const at = text.lastIndexOf('"label":');
    const label = at > f ? plainNumber(text, at + 8) : NaN;
    if (finite(ts) && finite(pCTR) && modelVersion !== null && (label === 0 || label === 1)) return { text, ts, pCTR, modelVersion, label };
  }
  const r = parse(text);
  if (r === null || r.type !== 'example') return null;
  const { ts, pCTR, modelVersion, label, features } = r;
  if (!isNum(ts) || !isNum(pCTR) || !isStr(modelVersion) || (label !== 0 && label !== 1) || !isObj(features)) return null;
  return { text, ts, pCTR, modelVersion, label };
}

export function readUnattributed(text: string): UnattributedView | null {
  const r = parse(text);
  if (r === null || r.type !== 'unattributed-click') return null;
  if ((r.reason !== 'late' && r.reason !== 'unknown') || !isNum(r.ts)) return null;
  return { reason: r.reason, ts: r.ts };
}

/**
 * A systematic sample of at most `perSecond` records per second of event time, independent of their
 * content: tokens accrue as event time advances (the newest time seen, since partitions interleave)
 * and each record taken spends one. Bounded by event time rather than wall time, a replay at any
 * speed samples the same records as live traffic would.
 */
export class EventTimeSampler {
  private tokens: number;
  private last = -Infinity;
  /** Share of recent offers taken (exponentially weighted over ~1000 offers). */
  share = 1;

  constructor(private readonly perSecond: number) {
    this.tokens = perSecond;
  }

  take(ts: number): boolean {
    if (ts > this.last) {
      if (this.last !== -Infinity) this.tokens = Math.min(this.perSecond, this.tokens + ((ts - this.last) * this.perSecond) / 1000);
      this.last = ts;
    }
    const taken = this.tokens >= 1;
    if (taken) this.tokens -= 1;
    this.share += ((taken ? 1 : 0) - this.share) / 1000;
    return taken;
  }
}

/**
 * Takes records in a given share, systematically (every 1/share-th). Labeled examples arrive out of
 * event-time order (negatives when their attribution window closes), so they are sampled in the
 * share the impressions were.
 */
export class ShareSampler {
  private credit = 0;

  take(share: number): boolean {
    this.credit += share;
    if (this.credit < 1) return false;
    this.credit -= 1;
    return true;
  }
}
