/** Options of the direct event generator: the market's options plus volume, pace and fault rates. */
import { z } from 'zod';
import { parseOrThrow } from '../core/index.ts';
import { MarketOptionsSchema } from './options.ts';

/** 2024-01-01T00:00:00Z: a fixed default start, so a seed alone reproduces the events. */
export const DEFAULT_START_TS = 1_704_067_200_000;

export const GeneratorOptionsSchema = MarketOptionsSchema.extend({
  /** Impressions to generate (clicks follow, until the last pending click). */
  impressions: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  startTs: z.number().int().min(0).default(DEFAULT_START_TS),
  /** Simulated impressions per second of event time. */
  ratePerSec: z.number().positive().max(1e9).default(1000),
  /** Impressions per batch (a batch ends after the request that reaches it). */
  batchSize: z.number().int().min(1).max(10_000_000).default(4096),
  /** Clicks for impression ids that were never served, per impression. */
  unknownClickRate: z.number().min(0).max(1).default(0.001),
  /** Standard deviation of the logit noise between the oracle and the served pCTR. */
  servedNoise: z.number().min(0).max(10).default(0.3),
  /** `modelVersion` stamped on every impression. */
  modelVersion: z.string().min(1).max(128).default('sim@0'),
});
export type GeneratorOptionsInput = z.input<typeof GeneratorOptionsSchema>;
export type GeneratorOptions = z.output<typeof GeneratorOptionsSchema>;

export function parseGeneratorOptions(input: GeneratorOptionsInput): GeneratorOptions {
  return parseOrThrow(GeneratorOptionsSchema, input, 'event generator options');
}
