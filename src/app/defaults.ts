/**
 * Defaults of `pctr start`: the simulated market and traffic of `--sim`, and the learner settings
 * of the continuous learner and the batch pipeline.
 *
 * The market is small (few users, ads, categories and sites) because the served pCTR is judged
 * against the oracle after a few hundred thousand impressions: the biggest term of the hidden model
 * is the user × category affinity, and a learner needs on the order of a hundred impressions per
 * (user, category) pair to estimate it, which a market of 10,000 users does not give. Drift keeps
 * the simulator's pace per ad: as many cold ads per hour relative to the pool as its defaults.
 */
import type { MarketOptionsInput } from '../sim/index.ts';

export const SIM_DEFAULTS = {
  speed: 60 as number | 'max',
  requestRate: 4,
  k: 1,
  concurrency: 8,
  seed: 1,
  users: 200,
  ads: 200,
  window: 50_000,
  trainEveryMs: 3_600_000,
  market: { campaigns: 50, categories: 8, sites: 20, drift: { newAdsPerHour: 2, tasteTimescaleMs: 30 * 86_400_000 } } satisfies MarketOptionsInput,
} as const;

/**
 * The served features' known interactions as FTRL crosses: the user's taste for a category, and a
 * site's audience for a category. Without them a linear model sees each only as a sum of two
 * main effects.
 */
export const DEFAULT_LEARNER_PARAMS: Readonly<Record<string, unknown>> = {
  crosses: 'user_id:ad_category,ctx_site:ad_category',
  alpha: 0.3,
  l2: 0.1,
};
