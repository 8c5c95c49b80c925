/**
 * POST /v1/rank: a user, a context and candidate ads in; the top-k ads by eCPM out, each with the
 * impression id the client sends back with a click. The route schema (from schemas.ts) validates
 * the body and serializes the answer; the ranker does the rest.
 */
import type { FastifyInstance } from 'fastify';
import type { Ranker } from '../ranker.ts';
import { ErrorResponse, KEYED, RankResponse, jsonSchema, rankRequestSchema, type RankRequest, type RankResponse as RankReply } from '../schemas.ts';

export function rankRoute(app: FastifyInstance, opts: { ranker: Ranker; maxCandidates: number }): void {
  const error = jsonSchema(ErrorResponse);
  app.post<{ Body: RankRequest; Reply: RankReply }>(
    '/v1/rank',
    {
      config: { role: 'client' },
      schema: {
        summary: 'Rank candidate ads for a user',
        description: `Scores every candidate (1–${opts.maxCandidates}) with the served model, computes eCPM = pCTR × bid, applies the business rules (minimum pCTR, one ad per campaign) and returns the top k. Each served ad is logged as an impression.`,
        tags: ['serving'],
        security: KEYED,
        body: jsonSchema(rankRequestSchema(opts.maxCandidates)),
        response: { 200: jsonSchema(RankResponse, 'output'), '4xx': error, '5xx': error },
      },
    },
    // The serializer writes only the response schema's fields (shadowModelVersion stays internal).
    (request) => opts.ranker.rank(request.body),
  );
}
