/**
 * Assembles one simulated market from validated options: the hidden model, the traffic, drift,
 * the click-delay model and the names the outside world sees. Both the interactive `AdMarket`
 * and the direct event generator are built on it, so they draw from the same market.
 * Separate random streams (world, calibration, traffic, clicks, drift) keep, for example, the
 * traffic of a seed identical whether drift is on or off.
 */
import { ClickDelay } from './click-delay.ts';
import { MarketDrift } from './drift.ts';
import { DEVICES, MarketModel } from './market-model.ts';
import type { MarketOptions } from './options.ts';
import { Rng, solveIntercept } from './rng.ts';
import { Traffic } from './traffic.ts';

const CALIBRATION_SAMPLES = 50_000;

export interface World {
  readonly opts: MarketOptions;
  readonly model: MarketModel;
  readonly traffic: Traffic;
  readonly drift: MarketDrift;
  readonly delay: ClickDelay;
  readonly names: Names;
  readonly trafficRng: Rng;
  readonly clickRng: Rng;
}

export function buildWorld(opts: MarketOptions): World {
  const model = new MarketModel(opts, new Rng(opts.seed, 'world'));
  const traffic = new Traffic(model, opts.sites, opts.targetedShare);
  calibrate(model, traffic, new Rng(opts.seed, 'calibration'), opts.baseCtr);
  return {
    opts,
    model,
    traffic,
    drift: new MarketDrift(model, traffic, opts.drift, new Rng(opts.seed, 'drift')),
    delay: new ClickDelay(opts.delay, opts.windowMs),
    names: new Names(opts.categories, opts.sites),
    trafficRng: new Rng(opts.seed, 'traffic'),
    clickRng: new Rng(opts.seed, 'clicks'),
  };
}

/**
 * Set the intercept so that the mean true CTR of the traffic (a random candidate served at a
 * random slot, over a day's hours) is the base CTR. A ranker that serves better ads sees more.
 */
function calibrate(model: MarketModel, traffic: Traffic, rng: Rng, baseCtr: number): void {
  const offsets = new Float64Array(CALIBRATION_SAMPLES);
  for (let i = 0; i < offsets.length; i++) {
    const user = traffic.user(rng);
    const device = traffic.device(rng);
    const site = traffic.site(rng);
    const position = rng.int(traffic.slots(rng));
    offsets[i] = model.offset(user, traffic.ad(rng, user), rng.int(24), device, site, position, 0);
  }
  model.intercept = solveIntercept(offsets, baseCtr);
}

/** Ids as the outside world sees them (`u12`, `a7`, `c3`, `cat4`, `site9`), cached, and parsed back. */
export class Names {
  readonly categories: readonly string[];
  readonly sites: readonly string[];
  readonly devices: readonly string[] = DEVICES;
  private readonly userCache: string[] = [];
  private readonly adCache: string[] = [];
  private readonly campaignCache: string[] = [];

  constructor(categories: number, sites: number) {
    this.categories = Array.from({ length: categories }, (_, i) => `cat${i}`);
    this.sites = Array.from({ length: sites }, (_, i) => `site${i}`);
  }

  user(u: number): string {
    return (this.userCache[u] ??= `u${u}`);
  }

  ad(a: number): string {
    return (this.adCache[a] ??= `a${a}`);
  }

  campaign(c: number): string {
    return (this.campaignCache[c] ??= `c${c}`);
  }

  /** The number in an id like `u12` (prefix `u`), or -1 when it is not one below `count`. */
  static parse(id: string, prefix: string, count: number): number {
    if (!id.startsWith(prefix)) return -1;
    const digits = id.slice(prefix.length);
    if (!/^(0|[1-9]\d*)$/.test(digits)) return -1;
    const n = Number(digits);
    return n < count ? n : -1;
  }
}
