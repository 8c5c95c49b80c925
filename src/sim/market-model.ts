/**
 * The hidden true-CTR model of the market, never visible to the system under test:
 *
 *   logit(CTR) = intercept + user bias + ad quality (decaying with age) + campaign effect
 *              + affinity(user taste · category embedding) + hour-of-day curve + device effect
 *              + site effect + site × category effect + position bias
 *
 * Each term is learnable from the served features (user_id, ad_id, campaign_id, ad_category,
 * ctx_hour, ctx_device, ctx_site, position); the affinity needs user_id × ad_category crosses or
 * per-user-per-category click rates. Entities live in typed arrays indexed by number.
 */
import { AdPool } from './ad-pool.ts';
import type { MarketOptions } from './options.ts';
import { hashPair } from '../core/index.ts';
import { hashNormal, type Rng, sigmoid } from './rng.ts';

const HOUR = 3_600_000;

/** Spread (standard deviation, logit units) of each term; together they give an oracle AUC near 0.77. */
export const EFFECT_SCALE = {
  userBias: 0.45,
  adQuality: 0.5,
  campaign: 0.2,
  affinity: 0.8,
  hourAmplitude: 0.2,
  site: 0.3,
  siteCategory: 0.3,
  /** Position p multiplies the odds by (1 + p)^-positionDecay. */
  positionDecay: 0.6,
} as const;

export const DEVICES = ['mobile', 'desktop', 'tablet'] as const;
export const DEVICE_EFFECT = new Float32Array([0.15, -0.15, 0.05]);
/** How many top categories define a user's interests (for targeting). */
export const INTERESTS = 3;

const POSITION_TABLE = 64;

export class MarketModel {
  readonly users: number;
  readonly categories: number;
  readonly dims: number;
  readonly userBias: Float32Array;
  /** users × dims, row-major. */
  readonly taste: Float32Array;
  /** users × INTERESTS: each user's best categories by affinity. */
  readonly interests: Int32Array;
  /** categories × dims. */
  readonly categoryEmbedding: Float32Array;
  readonly campaignCategory: Int32Array;
  readonly campaignEffect: Float32Array;
  readonly campaignBid: Float64Array;
  readonly ads: AdPool;
  readonly hourEffect = new Float32Array(24);
  readonly siteEffect: Float32Array;
  /** Salt of the site × category effects, computed from a hash rather than stored (sites × categories can be large). */
  private readonly siteCategorySalt: number;
  readonly positionEffect = new Float32Array(POSITION_TABLE);
  /** Calibrated so that the traffic's mean CTR is the base CTR (see world.ts). */
  intercept = 0;
  /** Logit lost per millisecond of an ad's age (0 when drift is off). */
  readonly decayPerMs: number;

  constructor(opts: MarketOptions, rng: Rng) {
    const { users, categories, campaigns, sites, tasteDims: dims } = opts;
    this.users = users;
    this.categories = categories;
    this.dims = dims;
    this.decayPerMs = opts.drift === false ? 0 : opts.drift.qualityDecayPerHour / HOUR;

    this.categoryEmbedding = normals(rng, categories * dims, 1 / Math.sqrt(dims));
    this.userBias = normals(rng, users, EFFECT_SCALE.userBias);
    this.taste = normals(rng, users * dims, 1);
    this.interests = new Int32Array(users * INTERESTS);
    for (let u = 0; u < users; u++) this.updateInterests(u);

    this.campaignCategory = new Int32Array(campaigns);
    this.campaignBid = new Float64Array(campaigns);
    for (let c = 0; c < campaigns; c++) {
      this.campaignCategory[c] = rng.int(categories);
      this.campaignBid[c] = Math.max(0.01, Math.round(rng.lognormal(0, 0.5) * 100) / 100);
    }
    this.campaignEffect = normals(rng, campaigns, EFFECT_SCALE.campaign);

    for (let h = 0; h < 24; h++) this.hourEffect[h] = EFFECT_SCALE.hourAmplitude * Math.cos((2 * Math.PI * (h - 20)) / 24);
    this.siteEffect = normals(rng, sites, EFFECT_SCALE.site);
    this.siteCategorySalt = rng.u32();
    for (let p = 0; p < POSITION_TABLE; p++) this.positionEffect[p] = -EFFECT_SCALE.positionDecay * Math.log1p(p);

    this.ads = new AdPool(categories, opts.ads * 2);
    // Start in steady state: when ads turn over, the initial pool has ages spread over a lifetime.
    const lifetimeMs = opts.drift !== false && opts.drift.newAdsPerHour > 0 ? (opts.ads / opts.drift.newAdsPerHour) * HOUR : 0;
    for (let i = 0; i < opts.ads; i++) this.newAd(rng, -rng.next() * lifetimeMs);
  }

  /** A new (cold) ad of a random campaign, born at `bornAt` (relative to the start); returns its number. */
  newAd(rng: Rng, bornAt: number): number {
    const campaign = rng.int(this.campaignCategory.length);
    return this.ads.add(campaign, this.campaignCategory[campaign], EFFECT_SCALE.adQuality * rng.normal(), bornAt);
  }

  affinity(user: number, category: number): number {
    const d = this.dims;
    let dot = 0;
    for (let k = 0, t = user * d, e = category * d; k < d; k++) dot += this.taste[t + k] * this.categoryEmbedding[e + k];
    return EFFECT_SCALE.affinity * dot;
  }

  /** Recompute a user's top categories after their taste changed. */
  updateInterests(user: number): void {
    const base = user * INTERESTS;
    const best = this.interests;
    const score = [-Infinity, -Infinity, -Infinity];
    for (let c = 0; c < this.categories; c++) {
      const a = this.affinity(user, c);
      let slot = INTERESTS;
      while (slot > 0 && a > score[slot - 1]) slot--;
      if (slot === INTERESTS) continue;
      for (let j = INTERESTS - 1; j > slot; j--) {
        score[j] = score[j - 1];
        best[base + j] = best[base + j - 1];
      }
      score[slot] = a;
      best[base + slot] = c;
    }
    // Fewer categories than interest slots: repeat the best.
    for (let j = Math.min(this.categories, INTERESTS); j < INTERESTS; j++) best[base + j] = best[base];
  }

  siteCategory(site: number, category: number): number {
    return EFFECT_SCALE.siteCategory * hashNormal(hashPair(site, category, this.siteCategorySalt));
  }

  positionBias(position: number): number {
    return position < POSITION_TABLE ? this.positionEffect[position] : -EFFECT_SCALE.positionDecay * Math.log1p(position);
  }

  /** The true logit without the intercept; `t` is time since the market's start (ms). */
  offset(user: number, ad: number, hour: number, device: number, site: number, position: number, t: number): number {
    const ads = this.ads;
    const category = ads.category[ad];
    const age = t - ads.bornAt[ad];
    return (
      this.userBias[user] +
      ads.quality[ad] -
      (age > 0 ? age * this.decayPerMs : 0) +
      this.campaignEffect[ads.campaign[ad]] +
      this.affinity(user, category) +
      this.hourEffect[hour] +
      DEVICE_EFFECT[device] +
      this.siteEffect[site] +
      this.siteCategory(site, category) +
      this.positionBias(position)
    );
  }

  /** The true click probability of showing `ad` to `user` at `position` in this context at time `t`. */
  ctr(user: number, ad: number, hour: number, device: number, site: number, position: number, t: number): number {
    return sigmoid(this.intercept + this.offset(user, ad, hour, device, site, position, t));
  }
}

function normals(rng: Rng, n: number, sd: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = sd * rng.normal();
  return out;
}
