/**
 * Options of the simulated market, validated once with zod (unknown keys are errors, so a typo
 * does not silently fall back to a default). Every field has a default; `{}` is a working market.
 */
import { z } from 'zod';
import { Id, parseOrThrow } from '../core/index.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const int = (min: number, max: number) => z.number().int().min(min).max(max);

export const ContextShiftSchema = z.strictObject({
  /** Which context feature's distribution changes: the device mix, or site popularity (rare sites become popular). */
  feature: z.enum(['device', 'site']),
  /** Simulated time after the market's start at which the shift happens. */
  atMs: z.number().min(0),
});
export type ContextShift = z.infer<typeof ContextShiftSchema>;

export const DriftOptionsSchema = z.strictObject({
  /** Ad fatigue: an ad's quality (logit) falls by this much per simulated hour of its age. 0 = off. */
  qualityDecayPerHour: z.number().min(0).max(10).default(0.005),
  /** Cold ads arriving per simulated hour; each replaces a retiring old ad, so the pool keeps its size. 0 = off. */
  newAdsPerHour: z.number().min(0).max(1e6).default(20),
  /** User tastes follow an Ornstein–Uhlenbeck walk: after this much simulated time they keep e⁻¹ of their correlation. 0 = off. */
  tasteTimescaleMs: z.number().min(0).default(3 * DAY),
  /** A scheduled change of one context feature's distribution, for testing drift monitors; null = off. */
  contextShift: ContextShiftSchema.nullable().default({ feature: 'device', atMs: 12 * HOUR }),
  /** Simulated time between drift steps of the direct generator (the serving loop calls `advance` itself). */
  stepMs: z.number().min(1).default(60_000),
});
export type DriftOptions = z.infer<typeof DriftOptionsSchema>;

export const DelayOptionsSchema = z.strictObject({
  /** Median click delay of the main (lognormal) component. */
  medianMs: z.number().positive().default(40_000),
  /** Log-space spread of the main component. */
  sigma: z.number().min(0).max(5).default(1),
  /** Share of clicks in a log-uniform tail from 2 min to the end of the attribution window. */
  tailShare: z.number().min(0).max(1).default(0.08),
  /** Share of clicks arriving after the attribution window (late clicks). */
  lateShare: z.number().min(0).max(1).default(0.015),
});
export type DelayOptions = z.infer<typeof DelayOptionsSchema>;

export const MarketOptionsSchema = z.strictObject({
  seed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(1),
  users: int(1, 10_000_000).default(10_000),
  /** Live ads at any time (the pool size drift keeps). */
  ads: int(1, 1_000_000).default(2_000),
  campaigns: int(1, 1_000_000).default(200),
  categories: int(1, 10_000).default(24),
  sites: int(1, 1_000_000).default(100),
  /** Mean true CTR of the traffic (served at random among candidates); the intercept is calibrated to it. */
  baseCtr: z.number().min(0.01, 'must be ≥ 0.01').max(0.05, 'must be ≤ 0.05').default(0.03),
  /** Dimensions of user tastes and category embeddings (their dot product is the affinity). */
  tasteDims: int(1, 64).default(4),
  /** Candidates per rank request (AdMarket). */
  candidates: int(1, 10_000).default(40),
  /** Share of candidates (and of directly generated impressions) drawn from the user's top categories. */
  targetedShare: z.number().min(0).max(1).default(0.5),
  /** Attribution window; the click-delay model places `delay.lateShare` of clicks after it. */
  windowMs: z.number().min(1000).default(30 * 60_000),
  /** Share of clicks that are sent twice (the second after a short delay). */
  duplicateRate: z.number().min(0).max(1).default(0.01),
  /** Start of simulated time (epoch ms); drift and the context shift count from here. Default: the first `nextRequest`/`advance` time. */
  startTs: z.number().int().min(0).optional(),
  /** Prefix of request and impression ids. Default `sim<seed>.`; change it to append a second run with the same seed to one log. */
  idPrefix: Id.optional(),
  delay: DelayOptionsSchema.prefault({}),
  /** Drift options, or `false` for a stationary market. */
  drift: z.union([z.literal(false), DriftOptionsSchema]).prefault({}),
});
export type MarketOptionsInput = z.input<typeof MarketOptionsSchema>;
export type MarketOptions = z.output<typeof MarketOptionsSchema>;

export function parseMarketOptions(input: MarketOptionsInput): MarketOptions {
  return parseOrThrow(MarketOptionsSchema, input, 'market options');
}

export const TIME = { HOUR, DAY } as const;
