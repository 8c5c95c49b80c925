/**
 * The one configuration object, validated at boot. Every setting has an environment variable,
 * a default and one line of documentation (shown by `pctr config`). Sources, lowest first:
 * defaults < config file (JSON, `PCTR_CONFIG` or `--config`) < environment < explicit overrides.
 * Backends are chosen by URL (`file:…`, `memory:`, `redis://…`, `postgres://…`, `sqlite:…`); each
 * backend parses its own URL into its own config type.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { Duration } from './duration.ts';
import { PctrError } from './errors.ts';
import { issuePath } from './validation.ts';

interface Setting<S extends z.ZodType = z.ZodType> {
  readonly env: string;
  readonly schema: S;
  /** Default; `${dataDir}` is replaced by the configured data directory. */
  readonly default: unknown;
  readonly doc: string;
}

function setting<S extends z.ZodType>(env: string, schema: S, def: unknown, doc: string): Setting<S> {
  return { env, schema, default: def, doc };
}

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);
const num = (min: number, max: number) => z.coerce.number().min(min).max(max);
const bool = z.union([z.boolean(), z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1')]);
const url = z.string().regex(/^[a-z][a-z0-9+.-]*:/, 'must be a URL such as file:./dir, memory:, redis://host:6379 or postgres://host/db');

/** API keys: `key:role` pairs separated by commas, role `client` or `admin`. */
const ApiKeys = z.string().transform((v, ctx) => {
  const keys: { key: string; role: 'client' | 'admin' }[] = [];
  for (const part of v.split(',').map((p) => p.trim()).filter(Boolean)) {
    const [key, role] = part.split(':');
    if (!key || (role !== 'client' && role !== 'admin')) {
      ctx.addIssue({ code: 'custom', message: `"${part}" is not key:client or key:admin` });
      return z.NEVER;
    }
    keys.push({ key, role });
  }
  return keys;
});

export const SETTINGS = {
  dataDir: setting('PCTR_DATA_DIR', z.string().min(1), './.pctr', 'Directory for embedded state (event log, registry, artifacts, Parquet).'),
  logLevel: setting('PCTR_LOG_LEVEL', z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']), 'info', 'Log level (logs are JSON lines on stderr).'),
  logFile: setting('PCTR_LOG_FILE', z.string(), '', 'Append logs to this file instead of stderr (empty = stderr; pctr start with its live view on a terminal logs to ${dataDir}/pctr.log).'),
  events: {
    url: setting('PCTR_EVENTS', url, 'file:${dataDir}/events', 'Event log backend: file:DIR (embedded) or redis://host:port[/db].'),
    partitions: setting('PCTR_EVENT_PARTITIONS', int(1, 1024), 8, 'Partitions per topic; an impression and its clicks share one (keyed by impressionId).'),
    fsync: setting('PCTR_EVENT_FSYNC', z.enum(['always', 'interval', 'never']), 'interval', 'File log: fsync before acknowledging every append batch, on an interval, or never (OS decides).'),
    fsyncIntervalMs: setting('PCTR_EVENT_FSYNC_INTERVAL', Duration, '200ms', 'File log: fsync period when fsync=interval.'),
    segmentBytes: setting('PCTR_EVENT_SEGMENT_BYTES', int(4096), 64 * 1024 * 1024, 'File log: roll to a new segment file after this many bytes.'),
    retentionBytes: setting('PCTR_EVENT_RETENTION_BYTES', int(0), 0, 'Delete oldest segments of a partition beyond this size (0 = unlimited). Redis: approximate MAXLEN per partition in entries when > 0.'),
    retentionMs: setting('PCTR_EVENT_RETENTION', Duration, '0', 'Delete segments older than this (0 = keep).'),
  },
  join: {
    attributionWindowMs: setting('PCTR_ATTRIBUTION_WINDOW', Duration, '30m', 'A click within this time after its impression makes a positive.'),
    maxOutOfOrdernessMs: setting('PCTR_MAX_OUT_OF_ORDERNESS', Duration, '10s', 'Watermark lag behind the largest event time seen (bounded out-of-orderness).'),
    idleTimeoutMs: setting('PCTR_IDLE_PARTITION_TIMEOUT', Duration, '2s', 'Wall time after which a silent partition follows the others\' watermark.'),
    checkpointIntervalMs: setting('PCTR_CHECKPOINT_INTERVAL', Duration, '1s', 'Wall time between join checkpoints (state + offsets + output, atomically).'),
    workers: setting('PCTR_JOIN_WORKERS', int(1, 256), 1, 'Join workers in this deployment; partitions are split among them.'),
  },
  features: {
    onlineStore: setting('PCTR_ONLINE_STORE', url, 'memory:', 'Online feature store: memory: or redis://host:port[/db].'),
    offlineStore: setting('PCTR_OFFLINE_STORE', url, 'file:${dataDir}/offline', 'Offline store: file:DIR of Parquet files partitioned by hour.'),
    onlineTimeoutMs: setting('PCTR_ONLINE_STORE_TIMEOUT', Duration, '20ms', 'Online store read budget on the ranking path; slower reads fall back to default features.'),
  },
  registry: {
    url: setting('PCTR_REGISTRY', url, 'sqlite:${dataDir}/registry.db', 'Model registry: sqlite:FILE (embedded) or postgres://user@host/db.'),
    artifacts: setting('PCTR_ARTIFACTS', z.string().min(1), '${dataDir}/artifacts', 'Directory of content-addressed model artifacts.'),
    modelName: setting('PCTR_MODEL_NAME', Id(), 'ctr', 'Registered model served and trained.'),
  },
  training: {
    scheduler: setting('PCTR_SCHEDULER', z.enum(['embedded', 'bullmq']), 'embedded', 'Pipeline runner: in-process, or BullMQ workers on Redis.'),
    redisUrl: setting('PCTR_REDIS', url, 'redis://127.0.0.1:6379', 'Redis for BullMQ when scheduler=bullmq.'),
    cron: setting('PCTR_TRAIN_CRON', z.string(), '', 'Cron expression for the batch pipeline (empty = not scheduled).'),
    model: setting('PCTR_TRAIN_MODEL', z.string().min(1), 'ftrl', 'Learner used by the pipeline and the continuous learner.'),
    gateMinAucGain: setting('PCTR_GATE_MIN_AUC_GAIN', num(-1, 1), 0, 'Promote only if challenger AUC ≥ champion AUC + this.'),
    gateMaxLoglossRatio: setting('PCTR_GATE_MAX_LOGLOSS_RATIO', num(0, 10), 1.0, 'Promote only if challenger logloss ≤ champion logloss × this.'),
    continuousEveryExamples: setting('PCTR_CONTINUOUS_EVERY', int(1), 5_000, 'Continuous learner: judge (and maybe publish) a snapshot every N labeled examples, on its progressive validation over the last max(N/2, 10000).'),
    continuousEveryMs: setting('PCTR_CONTINUOUS_INTERVAL', Duration, '0', 'Continuous learner: also publish on this wall interval (0 = off).'),
    runs: setting('PCTR_RUNS', z.string(), '', 'Pipeline run history: sqlite:FILE or postgres://…?schema=NAME (empty = the registry\'s PostgreSQL database, else sqlite:${dataDir}/runs.db).'),
    workDir: setting('PCTR_TRAINING_DIR', z.string().min(1), '${dataDir}/runs', 'Files of pipeline runs (data snapshots, artifacts); shared storage when workers run on several hosts.'),
    windowMs: setting('PCTR_TRAIN_WINDOW', Duration, '24h', 'Event-time span a pipeline run trains on, ending `lag` before now (unless --from/--to).'),
    lagMs: setting('PCTR_TRAIN_LAG', z.union([z.literal('auto'), Duration]), 'auto', 'How far before now that span ends; auto = attribution window + max out-of-orderness (later labels are not final).'),
    sampleNegatives: setting('PCTR_SAMPLE_NEGATIVES', num(0.0001, 1), 1, 'Batch training keeps each non-click with this probability (1 = all); predictions are corrected for it.'),
    calibration: setting('PCTR_TRAIN_CALIBRATION', z.enum(['none', 'platt', 'isotonic']), 'platt', 'Post-hoc calibration of batch models, fitted on the slice before the test slice.'),
    attempts: setting('PCTR_TRAIN_ATTEMPTS', int(1, 20), 3, 'Tries per pipeline step before its run fails (failures a retry cannot fix fail at once).'),
    backoffMs: setting('PCTR_TRAIN_BACKOFF', Duration, '2s', 'Delay before a failed step\'s second try; doubles for each further try.'),
    queuePrefix: setting('PCTR_QUEUE_PREFIX', Id(), 'pctr', 'BullMQ key prefix of the training queue (scheduler=bullmq).'),
  },
  gateway: {
    host: setting('PCTR_HOST', z.string(), '127.0.0.1', 'Gateway listen address.'),
    port: setting('PCTR_PORT', int(0, 65535), 8080, 'Gateway listen port.'),
    apiKeys: setting('PCTR_API_KEYS', ApiKeys, 'dev-client:client,dev-admin:admin', 'API keys as key:role pairs (roles: client, admin).'),
    rateLimitPerMinute: setting('PCTR_RATE_LIMIT', int(1), 600_000, 'Requests per minute per API key.'),
    maxCandidates: setting('PCTR_MAX_CANDIDATES', int(1, 100_000), 1000, 'Most candidates one rank request may carry.'),
    bodyLimitBytes: setting('PCTR_BODY_LIMIT', int(1024), 1024 * 1024, 'Largest request body in bytes.'),
    minPctr: setting('PCTR_MIN_PCTR', num(0, 1), 0, 'Business rule: candidates below this pCTR are not served.'),
    challengerShare: setting('PCTR_CHALLENGER_SHARE', num(0, 1), 0, 'Share of users (by hash of userId) served by the challenger.'),
    shadow: setting('PCTR_SHADOW', bool, false, 'Score the challenger beside the champion without serving it, and log both.'),
  },
  monitoring: {
    group: setting('PCTR_MONITOR_GROUP', Id(), 'monitor', 'Consumer group of the monitor on the impressions, examples and unattributed-clicks topics (one per monitor).'),
    windowMs: setting('PCTR_MONITOR_WINDOW', Duration, '15m', 'Sliding event-time window of online CTR, mean pCTR and calibration per model version (gauges, A/B view, alerts).'),
    settleMs: setting('PCTR_MONITOR_SETTLE', Duration, '2m', 'That window ends this long before the newest event, so clicks still on their way do not read as a CTR drop.'),
    sampleRate: setting('PCTR_MONITOR_SAMPLE_RATE', int(1), 200, 'Impressions and examples per second of event time whose features the monitor reads (drift, curves); all are counted.'),
    examples: setting('PCTR_MONITOR_EXAMPLES', int(100, 10_000_000), 20_000, 'Recent joined examples kept per model version for online logloss, AUC, ROC and reliability curves.'),
    bucketMs: setting('PCTR_MONITOR_BUCKET', Duration, '1m', 'Event-time bucket of the traffic and join time series.'),
    historyMs: setting('PCTR_MONITOR_HISTORY', Duration, '6h', 'Event-time span of the time series kept in memory.'),
    driftWindowMs: setting('PCTR_DRIFT_WINDOW', Duration, '2m', 'Served traffic compared with the drift reference: the latest window, extended back until it holds driftMinRows impressions.'),
    driftMinRows: setting('PCTR_DRIFT_MIN_ROWS', int(10), 2000, 'Fewest served impressions a drift window needs before PSI is computed (fewer rows make PSI noise).'),
    driftThreshold: setting('PCTR_DRIFT_THRESHOLD', num(0.001, 100), 0.2, 'PSI above which a served feature drifts from the champion\'s training data (rule of thumb: 0.1–0.25 moderate, > 0.25 major).'),
    driftThresholds: setting('PCTR_DRIFT_THRESHOLDS', z.string(), '', 'Per-feature PSI thresholds overriding driftThreshold, as name=psi pairs separated by commas.'),
    driftIgnore: setting('PCTR_DRIFT_IGNORE', z.string(), 'ctx_hour', 'Features not checked for drift, separated by commas (the hour of day moves through the day by design).'),
    pctrDriftThreshold: setting('PCTR_PCTR_DRIFT_THRESHOLD', num(0.001, 100), 0.2, 'PSI of served pCTR against the first window the champion served, above which predictions drift.'),
    calibrationMin: setting('PCTR_CALIBRATION_MIN', num(0, 1), 0.8, 'Alert when a version\'s online calibration (mean pCTR ÷ CTR) falls below this.'),
    calibrationMax: setting('PCTR_CALIBRATION_MAX', num(1, 100), 1.25, 'Alert when a version\'s online calibration rises above this.'),
    ctrDrop: setting('PCTR_CTR_DROP', num(0.01, 1), 0.3, 'Alert when the champion\'s CTR in the window falls this share below its CTR over the hour before.'),
    minClicks: setting('PCTR_MONITOR_MIN_CLICKS', int(1), 30, 'Clicks a window needs before the calibration and CTR-drop rules judge it.'),
    joinLagMs: setting('PCTR_JOIN_LAG_ALERT', Duration, '2m', 'Alert when the join\'s watermark trails the newest impression by more than this (event time).'),
    webhookUrl: setting('PCTR_WEBHOOK_URL', z.union([z.literal(''), z.url()]), '', 'Alerts and model alias moves are POSTed here as JSON (empty = no webhook).'),
    webhookSecret: setting('PCTR_WEBHOOK_SECRET', z.string(), '', 'HMAC-SHA256 key of the webhook: X-Pctr-Signature is sha256=<hex> of the body.'),
    webhookAttempts: setting('PCTR_WEBHOOK_ATTEMPTS', int(1, 20), 5, 'Tries per webhook delivery (backoff 0.5 s, doubling) before it is dropped and counted.'),
  },
} as const;

function Id() {
  return z.string().regex(/^[\w.-]+$/, 'must be letters, digits, . - _');
}

type Tree = { readonly [k: string]: Setting | Tree };
type Resolve<T> = T extends Setting<infer S> ? z.output<S> : { readonly [K in keyof T]: Resolve<T[K]> };
export type Config = Resolve<typeof SETTINGS>;

function isSetting(x: Setting | Tree): x is Setting {
  return typeof (x as Setting).env === 'string' && (x as Setting).schema instanceof z.ZodType;
}

/** Every setting with its path, for `pctr config` and the README. */
export function listSettings(tree: Tree = SETTINGS, prefix = ''): { path: string; setting: Setting }[] {
  const out: { path: string; setting: Setting }[] = [];
  for (const [k, v] of Object.entries(tree)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (isSetting(v)) out.push({ path, setting: v });
    else out.push(...listSettings(v, path));
  }
  return out;
}

function getPath(obj: unknown, path: string): unknown {
  let cur = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let cur = obj;
  for (const part of parts.slice(0, -1)) {
    cur[part] ??= {};
    cur = cur[part] as Record<string, unknown>;
  }
  cur[parts[parts.length - 1]] = value;
}

export type ConfigOverrides = { [k: string]: unknown };

export interface LoadConfigOptions {
  env?: NodeJS.ProcessEnv;
  /** JSON file with a (partial) config tree. Defaults to $PCTR_CONFIG when set. */
  file?: string;
  /** Highest precedence, e.g. from command-line flags: a partial tree or dotted paths (`gateway.port`). */
  overrides?: ConfigOverrides;
}

/** Build and validate the configuration; throws PCTR_CONFIG_INVALID listing every bad field with its variable. */
export function loadConfig(opts: LoadConfigOptions = {}): Config {
  const env = opts.env ?? process.env;
  const file = opts.file ?? env.PCTR_CONFIG;
  let fromFile: unknown = {};
  if (file) {
    try {
      fromFile = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new PctrError('PCTR_CONFIG_INVALID', `cannot read config file ${file}: ${(e as Error).message}`, { cause: e });
    }
  }
  const overrides = opts.overrides ?? {};
  const errors: string[] = [];
  const out: Record<string, unknown> = {};
  const settings = listSettings();
  // dataDir first: other defaults refer to it.
  const ordered = [...settings].sort((a, b) => (a.path === 'dataDir' ? -1 : b.path === 'dataDir' ? 1 : 0));
  let dataDir = './.pctr';
  for (const { path, setting: s } of ordered) {
    let raw: unknown = s.default;
    let source = 'default';
    const f = getPath(fromFile, path);
    if (f !== undefined) [raw, source] = [f, `file ${file}`];
    if (env[s.env] !== undefined && env[s.env] !== '') [raw, source] = [env[s.env], `$${s.env}`];
    const o = path in overrides ? overrides[path] : getPath(overrides, path);
    if (o !== undefined) [raw, source] = [o, 'command line'];
    if (typeof raw === 'string') raw = raw.replaceAll('${dataDir}', dataDir);
    const r = s.schema.safeParse(raw);
    if (!r.success) {
      const msg = r.error.issues.map((i) => (i.path.length ? `${issuePath(i.path)}: ${i.message}` : i.message)).join('; ');
      errors.push(`${path} (${s.env}, from ${source}) = ${JSON.stringify(raw)}: ${msg}`);
      continue;
    }
    if (path === 'dataDir') dataDir = r.data as string;
    setPath(out, path, r.data);
  }
  if (errors.length) {
    throw new PctrError('PCTR_CONFIG_INVALID', `invalid configuration:\n  ${errors.join('\n  ')}`, { details: { errors } });
  }
  return out as Config;
}

/** The scheme of a backend URL (`file`, `memory`, `redis`, `postgres`, `sqlite`). */
export function urlScheme(u: string): string {
  return u.slice(0, u.indexOf(':')).toLowerCase();
}

/** The path part of `file:DIR` / `sqlite:FILE` URLs (relative paths allowed). */
export function urlPath(u: string): string {
  const rest = u.slice(u.indexOf(':') + 1);
  return rest.startsWith('//') ? rest.slice(2) : rest;
}
