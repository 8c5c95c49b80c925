/**
 * The /api contract between the dashboard's back end and its UI: one zod schema per answer. The
 * Fastify plugin derives its response schemas (validation and serialization) from these, and the UI
 * imports only the types (`import type { Overview } from '../api/types.ts'`), so nothing here reaches
 * the browser bundle. Conventions:
 * - Times are epoch milliseconds of event time (the simulator's clock when it drives the system).
 * - A figure that cannot be computed yet (no traffic, one class only) is `null`, never NaN, so JSON
 *   carries it and charts draw a gap.
 * - Model versions of traffic are `name@version` strings as logged with impressions (`ctr@7`,
 *   `ctr@prior` before any champion); registry versions are numbers.
 * Every endpoint needs an API key (client or admin): `Authorization: Bearer KEY` or `x-api-key: KEY`.
 */
import { z } from 'zod';

const num = z.number();
const maybe = z.number().nullable();

// ---------------------------------------------------------------- alerts

export const BOX_IDS = ['gateway', 'feature_store', 'event_log', 'join', 'model_server', 'post_process', 'logging', 'label_backfill', 'training', 'registry'] as const;
export const BoxId = z.enum(BOX_IDS);
export type BoxId = z.infer<typeof BoxId>;

export const Severity = z.enum(['warn', 'alert']);
export type Severity = z.infer<typeof Severity>;

export const ALERT_RULES = ['calibration', 'ctr_drop', 'join_lag', 'drift', 'pctr_drift', 'degraded', 'training_failed'] as const;
export const AlertRule = z.enum(ALERT_RULES);
export type AlertRule = z.infer<typeof AlertRule>;

export const Alert = z.strictObject({
  /** Stable per rule and subject (`drift:ctx_device`, `calibration:ctr@3`): the same condition keeps its id. */
  id: z.string(),
  rule: AlertRule,
  severity: Severity,
  /** What it is about: a feature, a model version, a run id ('' when the rule has none). */
  subject: z.string(),
  /** The diagram box that turns amber/red with it. */
  box: BoxId,
  message: z.string(),
  /** When the condition started (event time). */
  since: num,
  /** When it cleared; absent while active. */
  resolvedAt: num.optional(),
  value: num,
  threshold: num,
});
export type Alert = z.infer<typeof Alert>;

export const AlertsResponse = z.strictObject({
  active: z.array(Alert),
  /** The latest alerts (active or resolved), newest first, at most 100. */
  recent: z.array(Alert),
});
export type AlertsResponse = z.infer<typeof AlertsResponse>;

// ---------------------------------------------------------------- overview (home diagram)

export const BoxStatus = z.enum(['ok', 'warn', 'alert']);
export type BoxStatus = z.infer<typeof BoxStatus>;

export const Figure = z.strictObject({
  label: z.string(),
  value: z.union([z.number(), z.string()]),
  /** `req/s`, `ms`, `s`, `%`, `ev/s`… absent for counts and names. */
  unit: z.string().optional(),
});
export type Figure = z.infer<typeof Figure>;

export const Box = z.strictObject({
  status: BoxStatus,
  /** At least one numeric figure per box; the first is the headline. */
  figures: z.array(Figure),
});
export type Box = z.infer<typeof Box>;

export const Overview = z.strictObject({
  at: num,
  boxes: z.strictObject(Object.fromEntries(BOX_IDS.map((id) => [id, Box])) as Record<BoxId, typeof Box>),
  alerts: z.array(Alert),
});
export type Overview = z.infer<typeof Overview>;

// ---------------------------------------------------------------- traffic and A/B

export const TrafficQuery = z.strictObject({ minutes: z.coerce.number().int().min(1).max(1440).default(60) });
export type TrafficQuery = z.infer<typeof TrafficQuery>;

export const TrafficSeries = z.strictObject({
  version: z.string(),
  /** Bucket start times (event time), oldest first; the same for every series of one answer. */
  ts: z.array(num),
  /** Rank requests served by this version per bucket. */
  requests: z.array(num),
  impressions: z.array(num),
  /** Attributed clicks of the bucket's impressions (clicks arrive later: the newest buckets fill in). */
  clicks: z.array(num),
  /** clicks ÷ impressions; null for a bucket without impressions. */
  ctr: z.array(maybe),
  mean_pctr: z.array(maybe),
  /** mean pCTR ÷ CTR (1 = calibrated); null without clicks. */
  calibration: z.array(maybe),
});
export type TrafficSeries = z.infer<typeof TrafficSeries>;

export const TrafficResponse = z.strictObject({
  step_ms: num,
  series: z.array(TrafficSeries),
});
export type TrafficResponse = z.infer<typeof TrafficResponse>;

export const AbVersion = z.strictObject({
  version: z.string(),
  /** `champion`, `challenger` or `prior` when the version holds that role now. */
  alias: z.string().optional(),
  impressions: num,
  clicks: num,
  ctr: maybe,
  /** 95% Wilson interval of the CTR. */
  ctr_ci: z.tuple([num, num]),
  mean_pctr: maybe,
  calibration: maybe,
  /** Over this version's recent joined examples (`examples` of them). */
  logloss: maybe,
  auc: maybe,
  examples: num,
});
export type AbVersion = z.infer<typeof AbVersion>;

export const AbResponse = z.strictObject({
  /** Over the sliding window `window_s` (config monitoring.window). */
  window_s: num,
  versions: z.array(AbVersion),
  /** Challenger (or second busiest) minus champion (or busiest): CTR difference with its 95% interval. */
  diff: z
    .strictObject({
      a: z.string(),
      b: z.string(),
      /** ctr(b) − ctr(a). */
      ctr_diff: num,
      ci: z.tuple([num, num]),
      /** The interval excludes 0. */
      significant: z.boolean(),
    })
    .optional(),
});
export type AbResponse = z.infer<typeof AbResponse>;

// ---------------------------------------------------------------- models

export const ModelVersionView = z.strictObject({
  version: num,
  kind: z.string(),
  createdAt: z.string(),
  /** Offline metrics recorded at registration (auc, logloss, ne, calibration…). */
  metrics: z.record(z.string(), num),
  params: z.record(z.string(), z.unknown()),
  dataRange: z.strictObject({ from: num, to: num, rows: num }).nullable(),
  parentVersion: maybe,
  runId: z.string().nullable(),
  aliases: z.array(z.string()),
  description: z.string().nullable(),
  digest: z.string(),
  sizeBytes: num,
});
export type ModelVersionView = z.infer<typeof ModelVersionView>;

export const AliasEventView = z.strictObject({
  name: z.string(),
  alias: z.string(),
  action: z.enum(['set', 'rollback', 'delete']),
  fromVersion: maybe,
  toVersion: maybe,
  reason: z.string(),
  at: z.string(),
});
export type AliasEventView = z.infer<typeof AliasEventView>;

export const ModelsResponse = z.strictObject({
  name: z.string(),
  champion: maybe,
  challenger: maybe,
  /** Newest first. */
  versions: z.array(ModelVersionView),
  /** Alias moves, newest first. */
  history: z.array(AliasEventView),
});
export type ModelsResponse = z.infer<typeof ModelsResponse>;

export const CurvesParams = z.strictObject({ version: z.coerce.number().int().min(1) });

export const CurvesResponse = z.strictObject({
  version: num,
  /** `online`: the version scored the recent joined examples; `none`: no labeled examples yet. */
  source: z.enum(['online', 'none']),
  /** Examples and positives the curves are computed on. */
  n: num,
  positives: num,
  auc: maybe,
  /** ROC points from (0,0) to (1,1), at most ~200. */
  roc: z.strictObject({ fpr: z.array(num), tpr: z.array(num) }),
  /** Equal-count buckets by predicted pCTR. */
  reliability: z.strictObject({ mean_pred: z.array(num), observed: z.array(num), count: z.array(num) }),
});
export type CurvesResponse = z.infer<typeof CurvesResponse>;

// ---------------------------------------------------------------- features

export const DriftStatus = z.enum(['ok', 'warn', 'alert', 'insufficient']);
export type DriftStatus = z.infer<typeof DriftStatus>;

export const FeaturesResponse = z.strictObject({
  /** Age of the newest aggregate per entity type (online store), event time; null before any. */
  freshness: z.array(z.strictObject({ entity: z.string(), age_s: maybe })),
  drift: z.array(
    z.strictObject({
      feature: z.string(),
      kind: z.enum(['categorical', 'numeric']),
      /** Served traffic over the last `window_s` vs the reference; null while the window is too small. */
      psi: maybe,
      threshold: num,
      status: DriftStatus,
    }),
  ),
  pctr_psi: maybe,
  pctr_threshold: num,
  /** Where the reference comes from: the champion's training run, or the first served window when no trained champion exists. */
  reference: z.strictObject({
    source: z.enum(['training-run', 'served-baseline', 'none']),
    version: maybe,
    runId: z.string().nullable(),
    rows: num,
  }),
  window_s: num,
  /** Served impressions in the current drift window. */
  window_rows: num,
});
export type FeaturesResponse = z.infer<typeof FeaturesResponse>;

// ---------------------------------------------------------------- join

export const JoinResponse = z.strictObject({
  /** Event-time lag of the join's watermark behind the newest served impression. */
  lag_s: maybe,
  /** Impression and click records not yet read by the join. */
  backlog: maybe,
  totals: z.strictObject({ positives: num, negatives: num, late: num, unknown: num }),
  step_ms: num,
  series: z.strictObject({
    ts: z.array(num),
    lag_s: z.array(maybe),
    late: z.array(num),
    unknown: z.array(num),
    positives: z.array(num),
    negatives: z.array(num),
  }),
});
export type JoinResponse = z.infer<typeof JoinResponse>;

// ---------------------------------------------------------------- pipeline

export const PipelineStep = z.strictObject({
  name: z.string(),
  deps: z.array(z.string()),
  status: z.enum(['pending', 'running', 'succeeded', 'failed']),
  attempts: num,
  duration_ms: maybe,
  error: z.string().optional(),
});
export type PipelineStep = z.infer<typeof PipelineStep>;

export const PipelineRun = z.strictObject({
  id: z.string(),
  pipeline: z.string(),
  trigger: z.string(),
  status: z.enum(['pending', 'running', 'succeeded', 'failed']),
  /** Wall-clock epoch ms. */
  startedAt: maybe,
  finishedAt: maybe,
  gate: z.strictObject({ promoted: z.boolean(), reason: z.string(), version: maybe }).optional(),
  error: z.string().optional(),
  steps: z.array(PipelineStep),
});
export type PipelineRun = z.infer<typeof PipelineRun>;

export const PipelineResponse = z.strictObject({ runs: z.array(PipelineRun) });
export type PipelineResponse = z.infer<typeof PipelineResponse>;

// ---------------------------------------------------------------- prediction inspector

/** `{ sample: true }`: the server picks a recently served request. Otherwise a rank request. */
export const InspectSample = z.strictObject({ sample: z.literal(true) });

export const Contribution = z.strictObject({
  feature: z.string(),
  /** The feature's value as served. */
  value: z.union([z.string(), z.number()]),
  /** Its additive share of the logit (before calibration); the bias is feature `(bias)`. */
  weight: num,
});
export type Contribution = z.infer<typeof Contribution>;

export const InspectRanked = z.strictObject({
  adId: z.string(),
  campaignId: z.string(),
  pCTR: num,
  eCPM: num,
  position: num,
  /** Linear and factorization models only; largest |weight| first. */
  contributions: z.array(Contribution).optional(),
});
export type InspectRanked = z.infer<typeof InspectRanked>;

export const InspectResponse = z.strictObject({
  /** The rank request that was scored (the sample picked, or the one sent). */
  request: z.record(z.string(), z.unknown()),
  modelVersion: z.string(),
  kind: z.string(),
  ranking: z.array(InspectRanked),
});
export type InspectResponse = z.infer<typeof InspectResponse>;

export const ApiError = z.strictObject({
  code: z.string(),
  message: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
});
export type ApiError = z.infer<typeof ApiError>;

/**
 * Body of POST /api/inspect: a sample request, or a rank request as POST /v1/rank takes it (validated
 * with serving's schema). Structural here, not imported from serving: the browser code's type check
 * (DOM types) reads this file and must not pull in the server modules.
 */
export type InspectRequest = z.infer<typeof InspectSample> | { readonly userId: string; readonly context?: Record<string, unknown>; readonly candidates: readonly Record<string, unknown>[]; readonly k?: number };
