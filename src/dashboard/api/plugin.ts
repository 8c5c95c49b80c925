/**
 * The dashboard's JSON API as a gateway plugin: `buildApp({ …, plugins: [dashboardApi(deps)] })`.
 * Every route needs a client or admin key (the gateway's auth hook), validates its input and
 * serializes its answer with the schemas of types.ts (also in the OpenAPI document under tag
 * `dashboard`). Registering it attaches the gateway to the monitor, so the monitor samples the
 * gateway's rates and latency and its metrics appear on the gateway's /metrics.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseOrThrow, type Config } from '../../core/index.ts';
import type { Monitor } from '../../monitoring/index.ts';
import type { Registry } from '../../registry/index.ts';
import { ErrorResponse, KEYED, jsonSchema, rankRequestSchema, type GatewayPlugin } from '../../serving/index.ts';
import type { RunStore } from '../../training/index.ts';
import { Inspector, type InspectInput } from './inspect.ts';
import { CurveMaker, models } from './models.ts';
import { overview } from './overview.ts';
import { pipeline, type DagShape } from './pipeline.ts';
import * as T from './types.ts';
import { ab, alerts, features, join, traffic } from './views.ts';

export interface DashboardApiDeps {
  readonly monitor: Monitor;
  readonly registry: Registry;
  /** Pipeline run history (the Pipeline view is empty without it). */
  readonly runs?: RunStore;
  /** DAG definitions of the pipelines, for the step dependencies of the Pipeline view. */
  readonly dags?: readonly DagShape[];
  readonly config: Config;
}

const MINUTES = { type: 'object', properties: { minutes: { type: 'string', pattern: '^[0-9]{1,4}$', description: 'Minutes of history (1–1440, default 60)' } }, additionalProperties: false };

function minutesOf(query: { minutes?: string }): number {
  return Math.min(1440, Math.max(1, Number(query.minutes ?? 60) || 60));
}

export function dashboardApi(deps: DashboardApiDeps): GatewayPlugin {
  return (app: FastifyInstance, parts) => {
    const { monitor, config } = deps;
    monitor.attach({ serving: parts });
    const inspector = new Inspector(parts, monitor, config);
    const curves = new CurveMaker(deps.registry, config.registry.modelName, monitor);
    const error = jsonSchema(ErrorResponse);
    const route = (summary: string, response: z.ZodType, extra: Record<string, unknown> = {}) => ({
      config: { role: 'client' as const },
      schema: { summary, tags: ['dashboard'], security: KEYED, response: { 200: jsonSchema(response, 'output'), '4xx': error, '5xx': error }, ...extra },
    });

    app.get('/api/overview', route('Live figures of every box of the architecture diagram, and active alerts', T.Overview), () => overview(monitor, parts));
    app.get<{ Querystring: { minutes?: string } }>('/api/traffic', route('Requests, impressions, clicks, CTR, mean pCTR and calibration per model version over time', T.TrafficResponse, { querystring: MINUTES }), (req) =>
      traffic(monitor, minutesOf(req.query)),
    );
    app.get('/api/ab', route('A/B comparison of the versions serving in the sliding window, with confidence intervals', T.AbResponse), () => ab(monitor));
    app.get('/api/models', route('Registered versions with offline metrics and lineage, aliases and their history', T.ModelsResponse), () => models(deps.registry, config.registry.modelName));
    app.get<{ Params: { version: string } }>(
      '/api/models/:version/curves',
      route('ROC and reliability curves of a version, scored on recent joined examples', T.CurvesResponse, {
        params: { type: 'object', properties: { version: { type: 'string', pattern: '^[1-9][0-9]{0,8}$', description: 'Registry version number' } }, required: ['version'] },
      }),
      (req) => curves.curves(Number(req.params.version)),
    );
    app.get('/api/features', route('Feature freshness, and drift (PSI) of every served feature and of pCTR', T.FeaturesResponse), () => features(monitor));
    app.get<{ Querystring: { minutes?: string } }>('/api/join', route('Join lag, backlog, labels and late/unknown clicks over time', T.JoinResponse, { querystring: MINUTES }), (req) =>
      join(monitor, minutesOf(req.query)),
    );
    app.get('/api/pipeline', route('Latest training pipeline runs as DAGs of steps', T.PipelineResponse), () => pipeline(deps.runs, deps.dags ?? []));
    app.get('/api/alerts', route('Active and recent alerts', T.AlertsResponse), () => alerts(monitor));
    // Either shape, told apart by zod here (ajv's strict mode ignores defaults inside anyOf); not a hot path.
    const inspectBody = z.union([T.InspectSample, rankRequestSchema(config.gateway.maxCandidates)]);
    app.post<{ Body: unknown }>(
      '/api/inspect',
      route('Rank a request (or a recent one) without logging it, with per-feature contributions for linear and FM models', T.InspectResponse, {
        body: { type: 'object', description: '`{ "sample": true }` or a rank request `{ userId, context, candidates, k }`' },
      }),
      (req) => {
        const body = parseOrThrow(inspectBody, req.body, 'inspect request');
        return inspector.inspect('sample' in body ? inspector.sample() : (body as InspectInput));
      },
    );
  };
}
