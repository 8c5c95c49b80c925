/**
 * Event schemas: the shapes that cross process boundaries through the event log. Types are derived
 * from these schemas, and every producer and consumer validates with the same ones, so a field that
 * is wrong is named the same way at the gateway, in the join and in the offline store.
 */
import { z } from 'zod';

/** Identifiers: printable, no whitespace, bounded. */
export const Id = z
  .string()
  .min(1, 'must not be empty')
  .max(128, 'must be at most 128 characters')
  .regex(/^[\w.:@/+-]+$/, 'must contain only letters, digits and . : @ / + - _');

/** Event time: epoch milliseconds (simulated or real). */
export const EventTime = z.number().int('must be an integer (epoch ms)').nonnegative().max(8.64e15);

export const FeatureValue = z.union([z.string().max(512), z.number().finite()]);
export type FeatureValue = z.infer<typeof FeatureValue>;

/** Features exactly as the model saw them when the ad was served: name → categorical string or number. */
export const Features = z
  .record(z.string().min(1).max(128), FeatureValue)
  .refine((f) => Object.keys(f).length <= 512, 'at most 512 features');
export type Features = z.infer<typeof Features>;

export const Probability = z.number().min(0, 'must be ≥ 0').max(1, 'must be ≤ 1');

export const ImpressionFields = {
  impressionId: Id,
  requestId: Id,
  ts: EventTime,
  userId: Id,
  adId: Id,
  campaignId: Id,
  bid: z.number().finite().positive('must be > 0'),
  position: z.number().int().min(0).max(10_000),
  pCTR: Probability,
  /** `name@version` of the model that produced pCTR, e.g. `ctr@7`. */
  modelVersion: z.string().min(1).max(128),
  features: Features,
  /**
   * Simulator side channel: the true click probability of this impression. Never a model feature
   * (encoders read only `features`); absent in production traffic.
   */
  oracleCtr: Probability.optional(),
};

export const Impression = z.strictObject({ type: z.literal('impression'), ...ImpressionFields });
export type Impression = z.infer<typeof Impression>;

export const Click = z.strictObject({
  type: z.literal('click'),
  impressionId: Id,
  ts: EventTime,
});
export type Click = z.infer<typeof Click>;

/** An impression with its label: 1 if clicked inside the attribution window, else 0. */
export const LabeledExample = z.strictObject({
  type: z.literal('example'),
  ...ImpressionFields,
  label: z.union([z.literal(0), z.literal(1)]),
  /** Event time of the (first) attributed click, null for negatives. */
  clickTs: EventTime.nullable(),
});
export type LabeledExample = z.infer<typeof LabeledExample>;

/**
 * Shadow scoring: the model that was not served scored the same served ad. Kept on its own topic
 * (keyed by impressionId), so the join and the learners never see it; online evaluation joins it
 * with the labeled example of the same impression.
 */
export const ShadowScore = z.strictObject({
  type: z.literal('shadow'),
  impressionId: Id,
  requestId: Id,
  ts: EventTime,
  /** `name@version` that served the impression, and its pCTR. */
  modelVersion: z.string().min(1).max(128),
  pCTR: Probability,
  /** `name@version` scored in the shadow, and its pCTR for the same ad at the same position. */
  shadowModelVersion: z.string().min(1).max(128),
  shadowPCTR: Probability,
});
export type ShadowScore = z.infer<typeof ShadowScore>;

export const PctrEvent = z.discriminatedUnion('type', [Impression, Click, LabeledExample]);
export type PctrEvent = z.infer<typeof PctrEvent>;

/** Topic names used across the system. */
export const TOPICS = {
  impressions: 'impressions',
  clicks: 'clicks',
  examples: 'examples',
  /** Clicks that could not be attributed: late (after the window) or for an unknown impression. */
  unattributedClicks: 'unattributed-clicks',
  /** Events rejected at an edge, kept for inspection rather than dropped. */
  deadLetters: 'dead-letters',
  /** Scores of the model not served (shadow mode), one per served ad. */
  shadowScores: 'shadow-scores',
} as const;
