/**
 * One error handler for the whole gateway: every rejection is `{ code, message, details }` with a
 * catalog code and a message naming what was wrong. PctrErrors keep their catalog status; schema
 * validation failures become 400 naming the field (`candidates[3].bid must be number`); Fastify's
 * own 4xx (body too large, wrong content type) are translated; anything else is a 500
 * that is logged with its stack and answered without internals.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PctrError, isPctrError, type ErrorCode } from '../../core/index.ts';

interface AjvIssue {
  readonly instancePath: string;
  readonly message?: string;
  readonly keyword: string;
  readonly params: Record<string, unknown>;
}

const WHERE: Record<string, string> = { body: 'request body', querystring: 'query string', params: 'path parameter', headers: 'header' };

/** `/candidates/3/bid` → `candidates[3].bid`, plus the property a `required`/`additionalProperties` issue is about. */
export function fieldOf(issue: AjvIssue): string {
  let out = '';
  for (const part of issue.instancePath.split('/').slice(1)) {
    const key = part.replaceAll('~1', '/').replaceAll('~0', '~');
    out += /^\d+$/.test(key) ? `[${key}]` : out === '' ? key : `.${key}`;
  }
  const extra = issue.params.missingProperty ?? issue.params.additionalProperty;
  if (typeof extra === 'string') out += out === '' ? extra : `.${extra}`;
  return out === '' ? '(root)' : out;
}

function issueMessage(issue: AjvIssue): string {
  if (issue.keyword === 'required') return 'is required';
  if (issue.keyword === 'type' && issue.instancePath === '') return `must be a JSON ${String(issue.params.type)}`;
  if (issue.keyword === 'additionalProperties') return 'is not a known field';
  return issue.message ?? issue.keyword;
}

function validationFailure(err: FastifyError): PctrError {
  const issues = (err.validation ?? []) as unknown as AjvIssue[];
  const where = WHERE[err.validationContext ?? 'body'] ?? String(err.validationContext);
  const listed = issues.slice(0, 10).map((i) => ({ field: fieldOf(i), message: issueMessage(i) }));
  const text = listed.map((i) => `${i.field} ${i.message}`).join('; ');
  return new PctrError('PCTR_VALIDATION', `invalid ${where}: ${text}`, { details: { field: listed[0]?.field ?? '(root)', issues: listed } });
}

/** Fastify's own errors, by status, as catalog errors with a message saying what to change. */
function fromFastify(err: FastifyError, bodyLimit: number): PctrError | null {
  if (err.validation) return validationFailure(err);
  const status = err.statusCode ?? 500;
  if (status >= 500) return null;
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new PctrError('PCTR_PAYLOAD_TOO_LARGE', `request body is larger than the limit of ${bodyLimit} bytes (gateway.bodyLimitBytes, PCTR_BODY_LIMIT)`, {
        details: { field: '(body)', limitBytes: bodyLimit },
      });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new PctrError('PCTR_UNSUPPORTED_MEDIA_TYPE', `content-type must be application/json: ${err.message}`, { details: { field: 'content-type' } });
  }
  const code: ErrorCode = status === 404 ? 'PCTR_NOT_FOUND' : status === 413 ? 'PCTR_PAYLOAD_TOO_LARGE' : status === 415 ? 'PCTR_UNSUPPORTED_MEDIA_TYPE' : status === 429 ? 'PCTR_RATE_LIMITED' : 'PCTR_VALIDATION';
  // Errors the JSON parser raises (e.g. a forbidden __proto__ key) carry a 400 and a useful message.
  return new PctrError(code, `request rejected: ${err.message}`, { details: { field: '(body)' } });
}

export function registerErrorHandling(app: FastifyInstance, opts: { bodyLimit: number }): void {
  app.setErrorHandler((err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const known = isPctrError(err) ? err : fromFastify(err, opts.bodyLimit);
    if (known === null || known.status >= 500) {
      if (known === null) request.log.error({ err, route: request.routeOptions.url }, 'request failed');
      else request.log.warn({ code: known.code, err: known.message, route: request.routeOptions.url }, 'request failed');
      const answer = known ?? new PctrError('PCTR_INTERNAL', `internal error while handling ${request.method} ${request.routeOptions.url ?? request.url}`);
      return reply.status(answer.status).send(answer.toJSON());
    }
    return reply.status(known.status).send(known.toJSON());
  });
  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
    const err = new PctrError('PCTR_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]} (see GET /docs/json for the API)`, { details: { field: '(url)' } });
    return reply.status(err.status).send(err.toJSON());
  });
}
