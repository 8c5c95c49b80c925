/**
 * Non-stationarity, applied in steps of simulated time: cold ads arrive (Poisson) and replace
 * old ones, user tastes take an Ornstein–Uhlenbeck step (stationary, so the calibrated base CTR
 * holds on average), and a scheduled shift changes the device mix or site popularity. Ad quality
 * decay needs no step: the model subtracts it by age.
 */
import type { MarketModel } from './market-model.ts';
import type { DriftOptions } from './options.ts';
import type { Rng } from './rng.ts';
import type { Traffic } from './traffic.ts';

const HOUR = 3_600_000;

export class MarketDrift {
  private readonly model: MarketModel;
  private readonly traffic: Traffic;
  private readonly opts: DriftOptions | false;
  private readonly rng: Rng;
  /** Time (relative to the start) of the last applied step, and of the last taste step. */
  private steppedAt = 0;
  private tastesAt = 0;
  private nextArrival: number;
  /** Ads born after the start (cold ads), for reporting. */
  arrivals = 0;

  constructor(model: MarketModel, traffic: Traffic, opts: DriftOptions | false, rng: Rng) {
    this.model = model;
    this.traffic = traffic;
    this.opts = opts;
    this.rng = rng;
    this.nextArrival = opts !== false && opts.newAdsPerHour > 0 ? rng.exponential(HOUR / opts.newAdsPerHour) : Infinity;
  }

  /** Apply drift up to `t` (ms since the start). Steps smaller than `stepMs` wait for the next call. */
  advance(t: number): void {
    const opts = this.opts;
    if (opts === false || t - this.steppedAt < opts.stepMs) return;
    this.steppedAt = t;
    this.arriveAds(t, opts);
    // Tastes move slowly: a step per 1/200 of their time scale is smooth enough, and it costs a
    // normal draw per user and dimension plus a pass over the categories.
    if (opts.tasteTimescaleMs > 0 && t - this.tastesAt >= opts.tasteTimescaleMs / 200) {
      this.walkTastes(t - this.tastesAt, opts.tasteTimescaleMs);
      this.tastesAt = t;
    }
    if (opts.contextShift && t >= opts.contextShift.atMs) {
      if (opts.contextShift.feature === 'device') this.traffic.deviceShifted = true;
      else this.traffic.siteShifted = true;
    }
  }

  private arriveAds(t: number, opts: DriftOptions): void {
    const model = this.model;
    const live = model.ads.live;
    while (this.nextArrival <= t) {
      // The older of two random live ads retires: old ads leave, without a global sort.
      const a = live[this.rng.int(live.length)];
      const b = live[this.rng.int(live.length)];
      const retiring = model.ads.bornAt[a] <= model.ads.bornAt[b] ? a : b;
      model.newAd(this.rng, this.nextArrival);
      model.ads.retire(retiring);
      this.arrivals++;
      this.nextArrival += this.rng.exponential(HOUR / opts.newAdsPerHour);
    }
  }

  private walkTastes(dt: number, timescale: number): void {
    const model = this.model;
    const rho = Math.exp(-dt / timescale);
    const noise = Math.sqrt(1 - rho * rho);
    const taste = model.taste;
    for (let i = 0; i < taste.length; i++) taste[i] = rho * taste[i] + noise * this.rng.quickNormal();
    for (let u = 0; u < model.users; u++) model.updateInterests(u);
  }
}
