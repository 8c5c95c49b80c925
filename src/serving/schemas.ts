/**
 * The gateway's request and response shapes. Each is one zod schema: its TypeScript type comes from
 * it, and so does the JSON Schema Fastify validates with (ajv) and serializes with
 * (fast-json-stringify), which is also what the OpenAPI document shows. zod itself never runs on the
 * request path. Limits that come from config (candidates per request) make the rank schema a function.
 */
import { z } from 'zod';
import { EventTime, Id } from '../core/index.ts';

/** Largest k a rank request may ask for. */
export const MAX_K = 100;
/** Most events one POST /v1/events may carry. */
export const MAX_EVENTS_PER_REQUEST = 10_000;

const Label = z.string().min(1).max(128);

export const RankContext = z
  .object({
    hour: z.number().int().min(0).max(23).describe('Hour of day 0–23 of the request (event time)'),
    device: Label.describe('Device class, e.g. mobile'),
    site: Label.describe('Site or app the ad slot is on'),
  })
  .catchall(z.string().max(256))
  .meta({ maxProperties: 16, description: 'Request context; extra string fields are accepted and ignored by current models' });
export type RankContext = z.output<typeof RankContext>;

export const RankCandidate = z
  .strictObject({
    adId: Id,
    campaignId: Id,
    category: Label.describe('Ad category (also keys the user×category features)'),
    bid: z.number().positive().describe('Bid per click; eCPM = pCTR × bid'),
  })
  .meta({ description: 'One ad that may be served' });
export type RankCandidate = z.output<typeof RankCandidate>;

export function rankRequestSchema(maxCandidates: number) {
  return z.strictObject({
    requestId: Id.optional().describe('Caller id of the request; generated when absent'),
    userId: Id,
    ts: EventTime.optional().describe('Event time of the request, epoch ms (default: now); simulators send simulated time'),
    context: RankContext,
    candidates: z.array(RankCandidate).min(1).max(maxCandidates),
    k: z.number().int().min(1).max(MAX_K).default(10).describe('Ads to return'),
  });
}
/** A rank request after validation (defaults applied). */
export type RankRequest = z.output<ReturnType<typeof rankRequestSchema>>;
/** A rank request as a caller writes it (`k` optional). */
export type RankRequestInput = z.input<ReturnType<typeof rankRequestSchema>>;

export const RankedAd = z.strictObject({
  adId: Id,
  campaignId: Id,
  impressionId: Id.describe('Send it back with the click'),
  position: z.number().int().min(0).describe('Slot, 0 = best'),
  pCTR: z.number().min(0).max(1).describe('Calibrated click probability'),
  eCPM: z.number().min(0).describe('pCTR × bid'),
});
export type RankedAd = z.output<typeof RankedAd>;

export const RankResponse = z.strictObject({
  requestId: Id,
  modelVersion: z.string().describe('name@version of the model that scored this request (name@prior before any model)'),
  ads: z.array(RankedAd),
  degraded: z.boolean().describe('True when the online feature store failed and default features were used'),
});
export type RankResponse = z.output<typeof RankResponse>;

export const EventsRequest = z.strictObject({
  events: z
    .array(z.record(z.string(), z.unknown()))
    .min(1)
    .max(MAX_EVENTS_PER_REQUEST)
    .describe('Clicks `{ type: "click", impressionId, ts? }` (ts defaults to now); each is validated on its own'),
});

export const EventRejection = z.strictObject({
  index: z.number().int().min(0),
  field: z.string(),
  message: z.string(),
});
export type EventRejection = z.output<typeof EventRejection>;

export const EventsResponse = z.strictObject({
  accepted: z.number().int().min(0),
  rejected: z.number().int().min(0),
  errors: z.array(EventRejection).describe('One entry per rejected event (at most 100 listed)'),
});
export type EventsResponse = z.output<typeof EventsResponse>;

export const ErrorResponse = z
  .strictObject({
    code: z.string().describe('Catalog code, e.g. PCTR_VALIDATION'),
    message: z.string().describe('What was wrong, naming the field'),
    details: z.record(z.string(), z.unknown()).optional(),
  })
  .meta({ description: 'Every error: a catalog code and a message naming the problem' });

export const HealthResponse = z.strictObject({ status: z.literal('ok') });

const ModelSlot = z.strictObject({
  version: z.string().describe('name@version'),
  kind: z.string(),
  digest: z.string(),
  loadedAt: z.string(),
});

const ErrorNote = z.strictObject({ message: z.string(), at: z.string(), code: z.string().optional(), alias: z.string().optional(), version: z.number().optional() });

export const ReadyResponse = z.strictObject({
  status: z.enum(['ready', 'degraded']).describe('degraded while online-store reads fail and default features are served'),
  model: z.union([z.literal('none'), ModelSlot]).describe('The champion served, or none (the prior serves)'),
  challenger: z.union([z.literal('none'), ModelSlot]),
  challengerShare: z.number(),
  shadow: z.boolean(),
  onlineStore: z.strictObject({
    status: z.enum(['ok', 'degraded']),
    failures: z.number(),
    lastError: ErrorNote.optional(),
  }),
  modelLoads: z.strictObject({ failures: z.number(), lastError: ErrorNote.optional() }),
  impressionLog: z.strictObject({ queued: z.number(), dropped: z.number(), failures: z.number(), lastError: ErrorNote.optional() }),
});
export type ReadyResponse = z.output<typeof ReadyResponse>;

const AliasName = z.string().regex(/^[A-Za-z][\w-]{0,63}$/, 'must be a name such as champion or challenger');

export const PromoteBody = z.strictObject({
  version: z.number().int().min(1),
  alias: AliasName.default('champion'),
  reason: z.string().max(500).optional(),
});
export type PromoteBody = z.output<typeof PromoteBody>;

export const RollbackBody = z.strictObject({
  alias: AliasName.default('champion'),
  reason: z.string().max(500).optional(),
});
export type RollbackBody = z.output<typeof RollbackBody>;

export const ModelNameParams = z.strictObject({ name: z.string().regex(/^[\w.-]{1,100}$/, 'must be letters, digits, . - _') });

export const AliasMoveResponse = z.strictObject({
  name: z.string(),
  alias: z.string(),
  action: z.string(),
  fromVersion: z.number().int().optional().describe('Absent when the alias was unset'),
  toVersion: z.number().int().optional(),
  reason: z.string(),
  at: z.string(),
  serving: z
    .strictObject({ version: z.string(), loadError: z.string().optional() })
    .optional()
    .describe("This gateway's model for the alias once it has tried to load the move (served model only)"),
});
export type AliasMoveResponse = z.output<typeof AliasMoveResponse>;

export const ConfigResponse = z.record(z.string(), z.unknown()).meta({ description: 'The configuration with API keys and URL credentials redacted' });

/** OpenAPI security requirement of keyed routes: a bearer token or an x-api-key header. */
export const KEYED: { [scheme: string]: string[] }[] = [{ bearer: [] }, { apiKey: [] }];

/** Draft-07 JSON Schema of a zod schema, as Fastify's ajv and fast-json-stringify take it. */
export function jsonSchema(schema: z.ZodType, io: 'input' | 'output' = 'input'): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { target: 'draft-7', io }) as Record<string, unknown>;
  return rest;
}
