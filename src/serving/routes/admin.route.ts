/**
 * Admin routes (admin key): promote a version to an alias, roll an alias back, read the config.
 * A promotion first loads the version here exactly as serving would (checksum, decode, smoke test)
 * and refuses it (409) if that fails, so a broken artifact never becomes the champion that every
 * gateway would then refuse. After a move of the served model's alias this gateway loads it at once
 * and the answer says what it now serves; other gateways follow through their registry watch.
 */
import type { FastifyInstance } from 'fastify';
import { PctrError, errorMessage, isPctrError, type Config } from '../../core/index.ts';
import type { AliasEvent, Registry } from '../../registry/index.ts';
import type { ModelHolder } from '../model-holder.ts';
import { redactKey } from '../plugins/auth.ts';
import {
  AliasMoveResponse,
  ConfigResponse,
  ErrorResponse,
  ModelNameParams,
  PromoteBody,
  RollbackBody,
  KEYED,
  jsonSchema,
  type AliasMoveResponse as AliasMove,
  type PromoteBody as Promote,
  type RollbackBody as Rollback,
} from '../schemas.ts';
import type { ModelAlias } from '../served-model.ts';

export interface AdminDeps {
  readonly registry: Registry;
  readonly holder: ModelHolder;
  readonly config: Config;
}

/** A backend URL without its credentials (`redis://user:secret@host` → `redis://***@host`). */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/]*@/i, '$1***@');
}

/** The config with API keys shortened, URL credentials and the webhook secret removed. */
export function redactConfig(config: Config): Record<string, unknown> {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return redactUrl(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  const copy = walk(config) as Record<string, unknown>;
  copy.gateway = { ...(copy.gateway as object), apiKeys: config.gateway.apiKeys.map((k) => ({ key: redactKey(k.key), role: k.role })) };
  copy.monitoring = { ...(copy.monitoring as object), webhookSecret: config.monitoring.webhookSecret === '' ? '' : '***' };
  return copy;
}

export function adminRoutes(app: FastifyInstance, deps: AdminDeps): void {
  const error = jsonSchema(ErrorResponse);
  const common = { tags: ['admin'], security: KEYED, params: jsonSchema(ModelNameParams) };
  const responses = { 200: jsonSchema(AliasMoveResponse, 'output'), '4xx': error, '5xx': error };

  /** The answer for an alias move, with what this gateway serves for it once loaded. */
  const answer = async (event: AliasEvent): Promise<AliasMove> => {
    const base: AliasMove = {
      name: event.name,
      alias: event.alias,
      action: event.action,
      ...(event.fromVersion === null ? {} : { fromVersion: event.fromVersion }),
      ...(event.toVersion === null ? {} : { toVersion: event.toVersion }),
      reason: event.reason,
      at: event.at,
    };
    const alias = event.alias as ModelAlias;
    const followed = event.name === deps.holder.name && (alias === 'champion' || (alias === 'challenger' && deps.holder.usesChallenger));
    if (!followed) return base;
    const r = await deps.holder.sync(alias);
    const version = r.served?.label ?? (alias === 'champion' ? deps.holder.champion.label : 'none');
    return { ...base, serving: r.failure ? { version, loadError: r.failure.message } : { version } };
  };

  app.post<{ Params: { name: string }; Body: Promote; Reply: AliasMove }>(
    '/v1/admin/models/:name/promote',
    {
      config: { role: 'admin' },
      schema: {
        ...common,
        summary: 'Point an alias (default champion) at a version, after verifying it loads and scores',
        body: jsonSchema(PromoteBody),
        response: responses,
      },
    },
    async (request) => {
      const { name } = request.params;
      const { version, alias, reason } = request.body;
      const v = await deps.registry.get(name, version);
      try {
        await deps.holder.verify(v);
      } catch (e) {
        if (!isPctrError(e, 'PCTR_ARTIFACT_CORRUPT') && !isPctrError(e, 'PCTR_MODEL_LOAD_FAILED')) throw e;
        throw new PctrError('PCTR_CONFLICT', `${name}@${version} cannot be promoted to ${alias}: ${errorMessage(e)}`, { cause: e, details: { field: 'version', cause: e.code } });
      }
      const event = await deps.registry.setAlias(name, alias, version, { reason: reason ?? `promoted through the gateway (key ${redactKey(request.apiKey)})` });
      return answer(event);
    },
  );

  app.post<{ Params: { name: string }; Body: Rollback; Reply: AliasMove }>(
    '/v1/admin/models/:name/rollback',
    {
      config: { role: 'admin' },
      schema: { ...common, summary: 'Move an alias (default champion) back to the version it had before', body: jsonSchema(RollbackBody), response: responses },
    },
    async (request) => {
      const { alias, reason } = request.body;
      const event = await deps.registry.rollback(request.params.name, alias, { reason: reason ?? `rolled back through the gateway (key ${redactKey(request.apiKey)})` });
      return answer(event);
    },
  );

  app.get(
    '/v1/admin/config',
    {
      config: { role: 'admin' },
      schema: { tags: ['admin'], security: KEYED, summary: 'The configuration, secrets redacted', response: { 200: jsonSchema(ConfigResponse, 'output'), '4xx': error } },
    },
    () => redactConfig(deps.config),
  );
}
