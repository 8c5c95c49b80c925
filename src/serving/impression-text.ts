/**
 * The JSON text of impressions (and shadow scores) as logged: every served ad's impression carries
 * the features exactly as the model saw them — the request-level values and each entity's
 * aggregates (store value, or the prior default when the entity was unknown or the store failed),
 * the same rule `ServedBatchWriter` applies to the columns. Text is assembled from fragments: an
 * entity's aggregates are rendered once per request however many served ads share it (the user's
 * always are), and `type`/`ts` come first, the shape the join reads without parsing.
 */
import type { RequestContext } from '../core/index.ts';
import { DEFAULT_CTR_PRIOR, ENTITY_LAYOUTS, ENTITY_TYPES, LAYOUT_WIDTH, defaultFeatures, type CtrPrior, type EntityType, type RequestEntities } from '../features/index.ts';

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
  private packed: Float32Array | null = null;
  private head = '';
  private featureHead = '';
  private contextTail = '';
  /** The pieces of an impression; odd places (and a few even ones) are filled per impression. */
  private readonly parts: (string | number)[] = [
    '{"type":"impression","impressionId":', '', '', '"adId":', '', ',"campaignId":', '', ',"bid":', 0, ',"position":', 0, ',"pCTR":', 0, ',"modelVersion":', '', '',
    '"ad_id":', '', ',"campaign_id":', '', ',"ad_category":', '', ',', '', '', ',', '', ',', '', ',', '', '}}',
  ];
  /** The pieces of a fragment: `"name":` (after a comma but the first) and the value, per layout name. */
  private readonly fragmentParts: (string | number)[] = [];

  constructor(prior: CtrPrior = DEFAULT_CTR_PRIOR) {
    const keys = {} as Record<EntityType, readonly string[]>;
    const defaults = {} as Record<EntityType, readonly number[]>;
    for (const e of ENTITY_TYPES) {
      const d = defaultFeatures(e, prior);
      keys[e] = ENTITY_LAYOUTS[e].map((n, j) => `${j === 0 ? '' : ','}${JSON.stringify(n)}:`);
      defaults[e] = ENTITY_LAYOUTS[e].map((n) => d[n]);
    }
    this.keys = keys;
    this.defaults = defaults;
  }

  /**
   * Start a request's impressions; valid until the next `begin`. `packed` holds the refs' store
   * values as `packVectors` lays them out (NaN = no value: the default), null when the store failed.
   */
  begin(request: LoggedRequest, requestId: string, ts: number, entities: RequestEntities, packed: Float32Array | null): void {
    this.request = request;
    this.entities = entities;
    this.packed = packed;
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
    // One join makes one flat string: no chain of partial strings for the GC, and the log encodes
    // it without flattening it first.
    const p = this.parts;
    p[1] = JSON.stringify(impressionId);
    p[2] = this.head;
    p[4] = adId;
    p[6] = campaignId;
    p[8] = c.bid;
    p[10] = position;
    p[12] = round9(pCTR);
    p[14] = modelVersionJson;
    p[15] = this.featureHead;
    p[17] = adId;
    p[19] = campaignId;
    p[21] = JSON.stringify(c.category);
    p[23] = this.contextTail;
    p[24] = this.fragment(e.user, 'user');
    p[26] = this.fragment(e.ad[i], 'ad');
    p[28] = this.fragment(e.campaign[i], 'campaign');
    p[30] = this.fragment(e.userCategory[i], 'user_category');
    return p.join('');
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
    const packed = this.packed;
    const p = this.fragmentParts;
    p.length = 2 * keys.length;
    for (let j = 0; j < keys.length; j++) {
      const x = packed === null ? NaN : packed[ref * LAYOUT_WIDTH + j];
      p[2 * j] = keys[j];
      p[2 * j + 1] = x === x ? x : defaults[j];
    }
    const s = p.join('');
    this.fragments[ref] = s;
    this.stamps[ref] = this.generation;
    return s;
  }
}
