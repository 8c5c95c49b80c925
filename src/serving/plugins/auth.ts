/**
 * API keys and roles. A route declares the role it needs in its config (`client` for rank and
 * events, `admin` for model promotion and config; none for health, metrics and docs). The key comes
 * from `Authorization: Bearer <key>` or `x-api-key`; an admin key may also call client routes.
 * Missing or unknown key → 401, a key without the role → 403, both naming what to send.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { PctrError } from '../../core/index.ts';

export type Role = 'client' | 'admin';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Role a route needs; absent = public. */
    role?: Role;
  }
  interface FastifyRequest {
    /** The API key the request authenticated with ('' on public routes). */
    apiKey: string;
  }
}

/** The key a request carries, or '' when it carries none. */
export function apiKeyOf(request: FastifyRequest): string {
  const header = request.headers['x-api-key'];
  if (typeof header === 'string' && header !== '') return header;
  const auth = request.headers.authorization;
  if (typeof auth === 'string' && auth.startsWith('Bearer ')) return auth.slice(7).trim();
  return '';
}

/** A key as it may appear in logs and admin output: its first 3 characters. */
export function redactKey(key: string): string {
  return `${key.slice(0, Math.min(3, key.length - 1))}***`;
}

export function registerAuth(app: FastifyInstance, keys: readonly { readonly key: string; readonly role: Role }[]): void {
  const roles = new Map(keys.map((k) => [k.key, k.role]));
  app.decorateRequest('apiKey', '');
  // A callback hook, not an async one: this runs on every request and needs no promise.
  app.addHook('onRequest', (request, _reply, done) => done(check(request, roles) ?? undefined));
}

function check(request: FastifyRequest, roles: ReadonlyMap<string, Role>): PctrError | null {
  const need = request.routeOptions.config?.role;
  if (need === undefined) return null;
  const key = apiKeyOf(request);
  const route = `${request.method} ${request.routeOptions.url}`;
  if (key === '') {
    return new PctrError('PCTR_UNAUTHORIZED', `${route} needs an API key: send "Authorization: Bearer <key>" or "x-api-key: <key>"`, { details: { field: 'authorization' } });
  }
  const role = roles.get(key);
  if (role === undefined) return new PctrError('PCTR_UNAUTHORIZED', `unknown API key ${redactKey(key)}`, { details: { field: 'authorization' } });
  if (need === 'admin' && role !== 'admin') {
    return new PctrError('PCTR_FORBIDDEN', `${route} needs an admin key; key ${redactKey(key)} has role ${role}`, { details: { field: 'authorization', role, needs: need } });
  }
  request.apiKey = key;
  return null;
}
