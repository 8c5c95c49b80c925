/**
 * The JSON body parser. Plain `JSON.parse` (V8's, the fastest there is), with errors that say what
 * is wrong: the parser's own message (which token, at which position), an empty body, or a
 * `__proto__` key, which is refused outright although nothing here merges bodies into objects —
 * a body that carries one is not a rank request or a click.
 */
import type { FastifyInstance } from 'fastify';
import { PctrError, errorMessage } from '../../core/index.ts';

/** A `"__proto__":` key, also spelled with \u escapes (as secure-json-parse checks). */
const PROTO_KEY = /"(?:_|\\u005[Ff])(?:_|\\u005[Ff])(?:p|\\u0070)(?:r|\\u0072)(?:o|\\u006[Ff])(?:t|\\u0074)(?:o|\\u006[Ff])(?:_|\\u005[Ff])(?:_|\\u005[Ff])"\s*:/;

export function parseJsonBody(body: string): unknown {
  if (body.length === 0) throw new PctrError('PCTR_VALIDATION', 'request body is empty but content-type is application/json: send a JSON object', { details: { field: '(body)' } });
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (e) {
    throw new PctrError('PCTR_VALIDATION', `request body is not valid JSON: ${errorMessage(e)}`, { details: { field: '(body)' } });
  }
  // Two substring scans rule out nearly every body before the regex runs.
  if ((body.includes('__proto__') || body.includes('\\u')) && PROTO_KEY.test(body)) {
    throw new PctrError('PCTR_VALIDATION', 'request body has a "__proto__" key, which is not allowed', { details: { field: '(body)' } });
  }
  return value;
}

export function registerJsonBody(app: FastifyInstance): void {
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (e) {
      done(e as Error, undefined);
    }
  });
}
