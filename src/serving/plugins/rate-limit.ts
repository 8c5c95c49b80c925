/**
 * Per-key rate limits (@fastify/rate-limit): every authenticated route allows `perMinute` requests
 * per API key per minute (the key is known by then: authentication runs first), and answers 429
 * naming the key's limit and when to retry. Public routes (health, metrics, docs) are not limited.
 * The counts live in this process: with N gateway processes a key gets up to N × the limit.
 */
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import { PctrError } from '../../core/index.ts';
import { redactKey } from './auth.ts';

export async function registerRateLimit(app: FastifyInstance, perMinute: number): Promise<void> {
  await app.register(rateLimit, {
    global: true,
    max: perMinute,
    timeWindow: 60_000,
    // Keys are bounded by config; the cache bound only matters for unauthenticated callers.
    cache: 10_000,
    keyGenerator: (request) => request.apiKey || request.ip,
    errorResponseBuilder: (request, ctx) =>
      new PctrError('PCTR_RATE_LIMITED', `API key ${request.apiKey ? redactKey(request.apiKey) : `of ${request.ip}`} exceeded ${ctx.max} requests per minute (gateway.rateLimitPerMinute, PCTR_RATE_LIMIT); retry in ${ctx.after}`, {
        details: { field: 'authorization', limitPerMinute: ctx.max, retryAfterMs: ctx.ttl },
      }),
  });
}
