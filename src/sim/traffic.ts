/**
 * Who shows up and what they are shown: users by a Zipf-like activity (a few heavy users, a long
 * tail), devices by a mix, sites by Zipf popularity, and ads partly targeted at the user's top
 * categories. The scheduled context shift swaps the device mix or turns site popularity around.
 */
import type { MarketModel } from './market-model.ts';
import { INTERESTS } from './market-model.ts';
import { AliasTable, type Rng, ZipfSampler } from './rng.ts';

const USER_ACTIVITY_ZIPF = 0.7;
const SITE_POPULARITY_ZIPF = 1.0;
/** Device mix (mobile, desktop, tablet) before and after a device shift. */
const DEVICE_MIX = [0.55, 0.35, 0.1];
const SHIFTED_DEVICE_MIX = [0.8, 0.12, 0.08];
/** Ads served per request in the direct generator: 1–4 slots at positions 0..n-1. */
const SLOT_WEIGHTS = [0.4, 0.3, 0.2, 0.1];

export class Traffic {
  private readonly model: MarketModel;
  private readonly targetedShare: number;
  private readonly userPicker: ZipfSampler;
  private readonly devicePickers: [AliasTable, AliasTable];
  private readonly sitePicker: ZipfSampler;
  private readonly slotPicker = new AliasTable(SLOT_WEIGHTS);
  deviceShifted = false;
  siteShifted = false;

  constructor(model: MarketModel, sites: number, targetedShare: number) {
    this.model = model;
    this.targetedShare = targetedShare;
    this.userPicker = new ZipfSampler(model.users, USER_ACTIVITY_ZIPF);
    this.devicePickers = [new AliasTable(DEVICE_MIX), new AliasTable(SHIFTED_DEVICE_MIX)];
    this.sitePicker = new ZipfSampler(sites, SITE_POPULARITY_ZIPF);
  }

  user(rng: Rng): number {
    return this.userPicker.sample(rng);
  }

  device(rng: Rng): number {
    return this.devicePickers[this.deviceShifted ? 1 : 0].sample(rng);
  }

  site(rng: Rng): number {
    const rank = this.sitePicker.sample(rng);
    return this.siteShifted ? this.sitePicker.n - 1 - rank : rank;
  }

  /** Ads served in one request of the direct generator. */
  slots(rng: Rng): number {
    return 1 + this.slotPicker.sample(rng);
  }

  /** A live ad for this user: with probability targetedShare from one of their top categories, else any live ad. */
  ad(rng: Rng, user: number): number {
    const ads = this.model.ads;
    if (rng.next() < this.targetedShare) {
      const category = this.model.interests[user * INTERESTS + rng.int(INTERESTS)];
      const list = ads.byCategory[category];
      if (list.length > 0) return list[rng.int(list.length)];
    }
    return ads.live[rng.int(ads.live.length)];
  }
}
