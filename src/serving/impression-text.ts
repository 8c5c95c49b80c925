/**
 * The JSON text of impressions (and shadow scores) as logged: every served ad's impression carries
 * the features exactly as the model saw them — the request-level values and each entity's
 * aggregates (store value, or the prior default when the entity was unknown or the store failed),
 * the same rule `ServedBatchWriter` applies to the columns. Text is assembled from fragments: an
 * entity's aggregates are rendered once per request however many served ads share it (the user's
 * always are), and `type`/`ts` come first, the shape the join reads without parsing.
 */
import type { RequestContext } from '../core/index.ts';
import {
  DEFAULT_CTR_PRIOR,
  ENTITY_LAYOUTS,
  ENTITY_TYPES,
  defaultFeatures,
  type CtrPrior,
  type EntityType,
  type FeatureVector,
  type RequestEntities,
} from '../features/index.ts';

export interface LoggedRequest {
  readonly userId: string;
  readonly context: RequestContext;
  readonly candidates: readonly { readonly adId: string; readonly campaignId: string; readonly category: string; readonly bid: number }[];
}

/**
 * A probability or price as logged and returned: rounded to 1e-9, about the 7 significant digits a
 * float32 score carries at typical CTRs, and cheaper than toPrecision on every served ad.
 */
export function round9(x: number): number {
  return Math.round(x * 1e9) / 1e9;
}

export class ImpressionText {
  private readonly keys: Record<EntityType, readonly string[]>;
  private readonly defaults: Record<EntityType, readonly number[]>;
  private fragments: string[] = [];
  private stamps = new Int32Array(64);
  private generation = 0;
  private request: LoggedRequest | null = null;
  private entities: RequestEntities | null = null;
  private vectors: readonly (FeatureVector | null)[] | null = null;
  private head = '';
  private featureHead = '';
  private contextTail = '';

  constructor(prior: CtrPrior = DEFAULT_CTR_PRIOR) {
    const keys = {} as Record<EntityType, readonly string[]>;
    const defaults = {} as Record<EntityType, readonly number[]>;
    for (const e of ENTITY_TYPES) {
      const d = defaultFeatures(e, prior);
      keys[e] = ENTITY_LAYOUTS[e].map((n) => `${JSON.stringify(n)}:`);
      defaults[e] = ENTITY_LAYOUTS[e].map((n) => d[n]);
    }
    this.keys = keys;
    this.defaults = defaults;
  }

  /** Start a request's impressions; valid until the next `begin`. `vectors` null = the store failed. */
  begin(
    request: LoggedRequest,
    requestId: string,
    ts: number,
    entities: RequestEntities,
    vectors: readonly (FeatureVector | null)[] | null,
  ): void {
    this.request = request;
    this.entities = entities;
    this.vectors = vectors;
    // Stamps of 0 mean "never rendered", so the generation skips 0 when it wraps.
    this.generation = (this.generation + 1) | 0 || 1;
    if (this.stamps.length < entities.refs.length) this.stamps = new Int32Array(Math.max(entities.refs.length, this.stamps.length * 2));
    const userId = JSON.stringify(request.userId);
    const ctx = request.context;
    this.head = `,"requestId":${JSON.stringify(requestId)},"ts":${ts},"userId":${userId},`;
    this.featureHead = `,"features":{"user_id":${userId},`;
    this.contextTail = `"ctx_hour":${ctx.hour},"ctx_device":${JSON.stringify(ctx.device)},"ctx_site":${JSON.stringify(ctx.site)},`;
  }

  /** Impression of candidate `i` served at `position` with `pCTR` by the model whose JSON-quoted label is `modelVersionJson`. */
  impression(i: number, impressionId: string, position: number, pCTR: number, modelVersionJson: string): string {
    const c = this.request!.candidates[i];
    const e = this.entities!;
    const adId = JSON.stringify(c.adId);
    const campaignId = JSON.stringify(c.campaignId);
    return (
      `{"type":"impression","impressionId":${JSON.stringify(impressionId)}${this.head}"adId":${adId},"campaignId":${campaignId},"bid":${c.bid},` +
      `"position":${position},"pCTR":${round9(pCTR)},"modelVersion":${modelVersionJson}${this.featureHead}` +
      `"ad_id":${adId},"campaign_id":${campaignId},"ad_category":${JSON.stringify(c.category)},${this.contextTail}` +
      `${this.fragment(e.user, 'user')},${this.fragment(e.ad[i], 'ad')},${this.fragment(e.campaign[i], 'campaign')},${this.fragment(e.userCategory[i], 'user_category')}}}`
    );
  }

  /** What the model not served gave the same ad (shadow mode). */
  shadow(impressionId: string, requestId: string, ts: number, served: { label: string; pCTR: number }, shadow: { label: string; pCTR: number }): string {
    return (
      `{"type":"shadow","impressionId":${JSON.stringify(impressionId)},"requestId":${JSON.stringify(requestId)},"ts":${ts},` +
      `"modelVersion":${JSON.stringify(served.label)},"pCTR":${round9(served.pCTR)},` +
      `"shadowModelVersion":${JSON.stringify(shadow.label)},"shadowPCTR":${round9(shadow.pCTR)}}`
    );
  }

  /** `"user_imps_1h":3,…` of one entity ref, rendered once per request. */
  private fragment(ref: number, entity: EntityType): string {
    if (this.stamps[ref] === this.generation) return this.fragments[ref];
    const keys = this.keys[entity];
    const defaults = this.defaults[entity];
    const names = ENTITY_LAYOUTS[entity];
    const v = this.vectors?.[ref] ?? null;
    let s = '';
    for (let j = 0; j < keys.length; j++) {
      const x = v === null ? undefined : v[names[j]];
      s += `${j === 0 ? '' : ','}${keys[j]}${x ?? defaults[j]}`;
    }
    this.fragments[ref] = s;
    this.stamps[ref] = this.generation;
    return s;
  }
}
