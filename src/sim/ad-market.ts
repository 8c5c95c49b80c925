/**
 * The interactive market for the serving loop: a traffic driver asks for rank requests, sends
 * them through the gateway, and reports back which ad was served where; the market answers with
 * the true CTR (the oracle, a side channel) and whether and when the user clicks.
 *
 *   const market = new AdMarket({ seed: 7 });
 *   const req = market.nextRequest(now);            // user, context, ~40 candidates with bids
 *   const out = market.outcome(req, adId, 0, now);  // { trueCtr, click: { delayMs, … } | null }
 *   market.advance(now);                            // drift: cold ads, taste walk, context shift
 */
import type { Features, RequestContext } from '../core/index.ts';
import { PctrError } from '../core/index.ts';
import { type MarketOptionsInput, parseMarketOptions } from './options.ts';
import { buildWorld, Names, type World } from './world.ts';

export interface Candidate {
  readonly adId: string;
  readonly campaignId: string;
  readonly category: string;
  /** The campaign's bid (per click). */
  readonly bid: number;
}

export interface MarketRequest {
  readonly requestId: string;
  readonly userId: string;
  /** Event time the request was made. */
  readonly ts: number;
  readonly context: RequestContext;
  readonly candidates: readonly Candidate[];
}

export interface Outcome {
  /** The true click probability of this impression (the oracle; never a model feature). */
  readonly trueCtr: number;
  /** The click, if the user clicks: after `delayMs`; a duplicate of it after `duplicateDelayMs` (else null). */
  readonly click: { readonly delayMs: number; readonly duplicateDelayMs: number | null } | null;
}

export interface MarketState {
  readonly startTs: number | null;
  readonly liveAds: number;
  /** Cold ads that arrived since the start. */
  readonly newAds: number;
  readonly deviceShifted: boolean;
  readonly siteShifted: boolean;
  /** Calibrated intercept of the hidden model (logit). */
  readonly intercept: number;
}

/** Served features of a candidate, with exactly the REQUEST_FEATURES names of core/served-features.ts. */
export function requestFeatures(userId: string, candidate: Candidate, context: RequestContext): Features {
  return {
    user_id: userId,
    ad_id: candidate.adId,
    campaign_id: candidate.campaignId,
    ad_category: candidate.category,
    ctx_hour: context.hour,
    ctx_device: context.device,
    ctx_site: context.site,
  };
}

export class AdMarket {
  private readonly world: World;
  private readonly idPrefix: string;
  private start: number | null;
  private requests = 0;

  constructor(options: MarketOptionsInput = {}) {
    const opts = parseMarketOptions(options);
    this.world = buildWorld(opts);
    this.idPrefix = opts.idPrefix ?? `sim${opts.seed}.`;
    this.start = opts.startTs ?? null;
  }

  /** Start of simulated time (set by the options or by the first call). */
  get startTs(): number | null {
    return this.start;
  }

  nextRequest(nowTs: number): MarketRequest {
    this.elapsed(nowTs);
    const { traffic, model, names, trafficRng: rng } = this.world;
    const user = traffic.user(rng);
    const chosen = new Set<number>();
    const want = Math.min(this.world.opts.candidates, model.ads.live.length);
    // Targeted draws repeat often for narrow interests; bound the attempts, then fill uniformly.
    for (let attempt = 0; chosen.size < want && attempt < want * 4; attempt++) chosen.add(traffic.ad(rng, user));
    for (let i = 0; chosen.size < want; i++) chosen.add(model.ads.live[i]);
    const candidates: Candidate[] = [];
    for (const ad of chosen) {
      const campaign = model.ads.campaign[ad];
      candidates.push({
        adId: names.ad(ad),
        campaignId: names.campaign(campaign),
        category: names.categories[model.ads.category[ad]],
        bid: model.campaignBid[campaign],
      });
    }
    return {
      requestId: `${this.idPrefix}r${(this.requests++).toString(36)}`,
      userId: names.user(user),
      ts: nowTs,
      context: { hour: hourOf(nowTs), device: names.devices[traffic.device(rng)], site: names.sites[traffic.site(rng)] },
      candidates,
    };
  }

  /** The true CTR of serving `adId` at `position` for this request at `nowTs`; draws no randomness. */
  trueCtr(request: MarketRequest, adId: string, position: number, nowTs: number): number {
    const r = this.resolve(request, adId, position);
    return this.world.model.ctr(r.user, r.ad, r.hour, r.device, r.site, position, this.elapsed(nowTs));
  }

  /** What the user does with the ad served at `position`: the true CTR and, maybe, a (duplicated) click. */
  outcome(request: MarketRequest, servedAdId: string, position: number, nowTs: number): Outcome {
    const trueCtr = this.trueCtr(request, servedAdId, position, nowTs);
    const { clickRng: rng, delay, opts } = this.world;
    if (rng.next() >= trueCtr) return { trueCtr, click: null };
    const delayMs = delay.sample(rng);
    const duplicateDelayMs = rng.next() < opts.duplicateRate ? delayMs + Math.max(1, Math.round(rng.exponential(2000))) : null;
    return { trueCtr, click: { delayMs, duplicateDelayMs } };
  }

  /** Apply drift up to `nowTs` (cheap to call often: it acts once per `drift.stepMs` of simulated time). */
  advance(nowTs: number): void {
    this.world.drift.advance(this.elapsed(nowTs));
  }

  state(): MarketState {
    const { model, traffic, drift } = this.world;
    return {
      startTs: this.start,
      liveAds: model.ads.live.length,
      newAds: drift.arrivals,
      deviceShifted: traffic.deviceShifted,
      siteShifted: traffic.siteShifted,
      intercept: model.intercept,
    };
  }

  private elapsed(nowTs: number): number {
    this.start ??= nowTs;
    return nowTs - this.start;
  }

  private resolve(request: MarketRequest, adId: string, position: number) {
    const { model, names, opts } = this.world;
    const what = `request ${request.requestId}`;
    if (!request.candidates.some((c) => c.adId === adId)) {
      throw new PctrError('PCTR_VALIDATION', `ad ${adId} is not a candidate of ${what}`, { details: { field: 'adId' } });
    }
    if (!Number.isInteger(position) || position < 0) {
      throw new PctrError('PCTR_VALIDATION', `position must be an integer ≥ 0, got ${position}`, { details: { field: 'position' } });
    }
    const user = Names.parse(request.userId, 'u', model.users);
    const ad = Names.parse(adId, 'a', model.ads.count);
    const site = Names.parse(request.context.site, 'site', opts.sites);
    const device = names.devices.indexOf(request.context.device);
    const hour = request.context.hour;
    if (user < 0 || ad < 0 || site < 0 || device < 0 || !(Number.isInteger(hour) && hour >= 0 && hour < 24)) {
      throw new PctrError('PCTR_VALIDATION', `${what} was not made by this market (user ${request.userId}, ad ${adId}, context ${JSON.stringify(request.context)})`);
    }
    return { user, ad, site, device, hour };
  }
}

/** UTC hour of day of an epoch-ms time (event time has no time zone). */
export function hourOf(ts: number): number {
  return Math.floor(ts / 3_600_000) % 24;
}
