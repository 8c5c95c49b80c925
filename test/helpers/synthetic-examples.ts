/**
 * Synthetic labeled examples from a small known click model, carrying the full served feature set,
 * for training-pipeline and continuous-learner tests. The true CTR is a logistic function of the ad,
 * the device and the site (plus an informative `ad_ctr_24h` aggregate); labels are drawn from it
 * with a seeded generator, so the same options give the same examples.
 */
import { defaultFeatures, ENTITY_TYPES } from '../../src/features/index.ts';
import type { LabeledExample } from '../../src/core/index.ts';
import { Rng } from '../../src/sim/index.ts';

export interface ExampleOptions {
  readonly n: number;
  /** Event times spread evenly over [from, to). */
  readonly from: number;
  readonly to: number;
  readonly seed?: number;
  /** Overrides the label: e.g. `() => 0` for a single-class range. */
  readonly label?: (trueCtr: number, rng: Rng) => 0 | 1;
  /** pCTR the "served" model gave: the oracle's CTR (a perfect champion) or a constant (a useless one). Default constant 0.1. */
  readonly served?: 'oracle' | number;
  /** Id prefix, so several batches written to one store never collide. */
  readonly idPrefix?: string;
}

const ADS = 60;
const DEVICES = ['mobile', 'desktop', 'tablet'];
const SITES = ['news', 'sports', 'video', 'shop', 'blog'];

export function syntheticExamples(opts: ExampleOptions): LabeledExample[] {
  // The market itself is fixed (seed 7); `seed` varies only who sees what and the labels.
  const market = new Rng(7, 'market');
  const adEffect = Array.from({ length: ADS }, () => 1.2 * market.normal());
  const deviceEffect = [0.6, -0.4, 0];
  const siteEffect = [0.3, -0.5, 0.8, 0, -0.2];
  const rng = new Rng(opts.seed ?? 1, 'examples');
  const out: LabeledExample[] = [];
  const step = (opts.to - opts.from) / opts.n;
  for (let i = 0; i < opts.n; i++) {
    const ad = rng.int(ADS);
    const device = rng.int(DEVICES.length);
    const site = rng.int(SITES.length);
    const user = rng.int(300);
    const ts = Math.floor(opts.from + i * step);
    const logit = -2.4 + adEffect[ad] + deviceEffect[device] + siteEffect[site];
    const trueCtr = 1 / (1 + Math.exp(-logit));
    const label = opts.label ? opts.label(trueCtr, rng) : rng.next() < trueCtr ? 1 : 0;
    const features: Record<string, string | number> = {
      user_id: `u${user}`,
      ad_id: `a${ad}`,
      campaign_id: `c${ad % 12}`,
      ad_category: `k${ad % 7}`,
      ctx_hour: new Date(ts).getUTCHours(),
      ctx_device: DEVICES[device],
      ctx_site: SITES[site],
    };
    for (const e of ENTITY_TYPES) Object.assign(features, defaultFeatures(e));
    features.ad_ctr_24h = Math.min(0.99, Math.max(0.001, 1 / (1 + Math.exp(-(-2.4 + adEffect[ad]))) + 0.01 * rng.normal()));
    features.ad_imps_24h = 50 + rng.int(500);
    out.push({
      type: 'example',
      impressionId: `${opts.idPrefix ?? 'i'}${opts.seed ?? 1}-${i}`,
      requestId: `r${i}`,
      ts,
      userId: `u${user}`,
      adId: `a${ad}`,
      campaignId: `c${ad % 12}`,
      bid: 1,
      position: 0,
      pCTR: opts.served === 'oracle' ? trueCtr : (opts.served ?? 0.1),
      modelVersion: 'ctr@0',
      features,
      oracleCtr: trueCtr,
      label,
      clickTs: label ? ts + 1_000 : null,
    });
  }
  return out;
}
