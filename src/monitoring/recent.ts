/**
 * What the monitor remembers of recent traffic for the dashboard's on-demand views: the last N
 * joined examples as columns (features as served, labels), so any registered version can be
 * scored on them for ROC and reliability curves; and the last few served requests rebuilt from
 * their impressions, for the prediction inspector's "pick a recent request".
 */
import { allocateColumns, hashCategory, hashString, type Column, type FeatureSchema, type FeatureValue, type RawBatch } from '../core/index.ts';
import type { ExampleView, Features, ImpressionView, ServedAd } from './records.ts';

export class ExampleSample {
  readonly schema: FeatureSchema;
  private readonly columns: Column[];
  private readonly labels: Uint8Array;
  private filled = 0;
  private next = 0;

  constructor(schema: FeatureSchema, size: number) {
    this.schema = schema;
    this.columns = allocateColumns(schema, size);
    this.labels = new Uint8Array(size);
  }

  get size(): number {
    return this.filled;
  }

  add(example: ExampleView, f: Features): void {
    const row = this.next;
    const fields = this.schema.fields;
    for (let j = 0; j < fields.length; j++) {
      const v: FeatureValue | undefined = f[fields[j].name];
      if (fields[j].kind === 'numeric') this.columns[j][row] = v === undefined ? NaN : typeof v === 'number' ? v : Number(v);
      else this.columns[j][row] = v === undefined ? 0 : hashCategory(typeof v === 'string' ? v : String(v));
    }
    this.labels[row] = example.label;
    this.next = (row + 1) % this.labels.length;
    if (this.filled < this.labels.length) this.filled++;
  }

  /** The examples kept, as a labeled batch (a copy: scoring may take a while and the ring moves on). */
  batch(): RawBatch {
    const n = this.filled;
    return { n, schema: this.schema, columns: this.columns.map((c) => c.slice(0, n)), labels: this.labels.slice(0, n) };
  }
}

/** A served request as the inspector takes it: user, context and the ads that were served. */
export interface SampledRequest {
  readonly requestId: string;
  readonly ts: number;
  readonly userId: string;
  readonly context: { readonly hour: number; readonly device: string; readonly site: string };
  readonly candidates: { readonly adId: string; readonly campaignId: string; readonly category: string; readonly bid: number }[];
}

/** Of new requests once the list is full, one in this many (by hash of the request id) is kept. */
const KEEP_ONE_IN = 64;

export class RecentRequests {
  private readonly requests = new Map<string, SampledRequest>();

  constructor(private readonly keep = 32) {}

  /** Whether this impression's request is (or will be) kept: its features are needed then. */
  wants(requestId: string): boolean {
    return this.requests.has(requestId) || this.requests.size < this.keep || (hashString(requestId, 0x5eed) & (KEEP_ONE_IN - 1)) === 0;
  }

  add(imp: ImpressionView, ad: ServedAd): void {
    const f = ad.features;
    let r = this.requests.get(imp.requestId);
    if (r === undefined) {
      const hour = Number(f.ctx_hour);
      r = {
        requestId: imp.requestId,
        ts: imp.ts,
        userId: ad.userId,
        context: { hour: Number.isInteger(hour) && hour >= 0 && hour <= 23 ? hour : 0, device: String(f.ctx_device ?? 'unknown'), site: String(f.ctx_site ?? 'unknown') },
        candidates: [],
      };
      this.requests.set(imp.requestId, r);
      // Maps keep insertion order: the first key is the oldest request.
      if (this.requests.size > this.keep) this.requests.delete(this.requests.keys().next().value!);
    }
    if (r.candidates.length < 100) r.candidates.push({ adId: ad.adId, campaignId: ad.campaignId, category: String(f.ad_category ?? 'unknown'), bid: ad.bid });
  }

  /**
   * A recent request with the most served ads, from the older half of those kept (their impressions,
   * spread over partitions, have had time to arrive); null before any.
   */
  pick(): SampledRequest | null {
    const all = [...this.requests.values()];
    if (all.length === 0) return null;
    const older = all.slice(0, Math.max(1, Math.ceil(all.length / 2)));
    return older.reduce((best, r) => (r.candidates.length > best.candidates.length ? r : best));
  }
}
