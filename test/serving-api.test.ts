/**
 * The gateway's HTTP contract through `app.inject()`, on real embedded backends: every malformed
 * request is a 4xx naming the field, keys and roles (401/403), per-key rate limits (429), click
 * intake with per-event rejections, admin promotion/rollback/config, health, metrics and OpenAPI.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Click, TOPICS } from '../src/core/index.ts';
import { registerFixtureModel, trainFixtureModel } from '../src/serving/testing/fixtures.ts';
import { fixtureModel, openTestGateway, readTopic, type TestGateway } from '../src/serving/testing/gateway-fixture.ts';

const CLIENT = { authorization: 'Bearer test-client' };
const ADMIN = { 'x-api-key': 'test-admin' };

let gw: TestGateway;
let app: FastifyInstance;

beforeAll(async () => {
  gw = await openTestGateway({ champion: await fixtureModel(), overrides: { 'gateway.maxCandidates': 50, 'gateway.bodyLimitBytes': 20_000 } });
  app = gw.app;
});

afterAll(async () => {
  await gw.close();
});

const body = (over: Record<string, unknown> = {}) => {
  const r = gw.requests[0];
  return { userId: r.userId, context: r.context, candidates: r.candidates.slice(0, 10), k: 3, ...over };
};
const candidate = (over: Record<string, unknown>) => ({ ...gw.requests[0].candidates[0], ...over });

describe('POST /v1/rank', () => {
  it('answers the top k with impression ids, pCTR, eCPM and the model version', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/rank', headers: CLIENT, payload: { ...body(), requestId: 'req-1' } });
    expect(res.statusCode).toBe(200);
    const out = res.json();
    expect(out).toMatchObject({ requestId: 'req-1', modelVersion: 'ctr@1', degraded: false });
    expect(out.ads).toHaveLength(3);
    for (const [position, ad] of out.ads.entries()) {
      expect(Object.keys(ad).sort()).toEqual(['adId', 'campaignId', 'eCPM', 'impressionId', 'pCTR', 'position']);
      expect(ad.position).toBe(position);
      expect(ad.pCTR).toBeGreaterThan(0);
      expect(ad.pCTR).toBeLessThan(1);
    }
    expect(out.ads[0].eCPM).toBeGreaterThanOrEqual(out.ads[1].eCPM);
  });

  const cases: [string, number, string, () => { payload?: unknown; headers?: Record<string, string> }][] = [
    ['userId missing', 400, 'userId', () => ({ payload: { ...body(), userId: undefined } })],
    ['userId not a string', 400, 'userId', () => ({ payload: body({ userId: 42 }) })],
    ['userId with spaces', 400, 'userId', () => ({ payload: body({ userId: 'no spaces allowed' }) })],
    ['requestId too long', 400, 'requestId', () => ({ payload: body({ requestId: 'r'.repeat(200) }) })],
    ['ts negative', 400, 'ts', () => ({ payload: body({ ts: -1 }) })],
    ['context missing', 400, 'context', () => ({ payload: { ...body(), context: undefined } })],
    ['context.hour out of range', 400, 'context.hour', () => ({ payload: body({ context: { hour: 24, device: 'mobile', site: 's' } }) })],
    ['context.hour as a string (no coercion)', 400, 'context.hour', () => ({ payload: body({ context: { hour: '3', device: 'mobile', site: 's' } }) })],
    ['context.device missing', 400, 'context.device', () => ({ payload: body({ context: { hour: 3, site: 's' } }) })],
    ['context extra field not a string', 400, 'context.segment', () => ({ payload: body({ context: { hour: 3, device: 'd', site: 's', segment: 7 } }) })],
    ['candidates empty', 400, 'candidates', () => ({ payload: body({ candidates: [] }) })],
    ['candidates not an array', 400, 'candidates', () => ({ payload: body({ candidates: { adId: 'a' } }) })],
    ['more candidates than gateway.maxCandidates', 400, 'candidates', () => ({ payload: body({ candidates: Array.from({ length: 51 }, (_, i) => candidate({ adId: `a${i}` })) }) })],
    ['candidate bid negative', 400, 'candidates[2].bid', () => ({ payload: body({ candidates: [candidate({}), candidate({}), candidate({ bid: -1 })] }) })],
    ['candidate bid a string', 400, 'candidates[1].bid', () => ({ payload: body({ candidates: [candidate({}), candidate({ bid: '1.5' })] }) })],
    ['candidate adId missing', 400, 'candidates[0].adId', () => ({ payload: body({ candidates: [candidate({ adId: undefined })] }) })],
    ['candidate category missing', 400, 'candidates[0].category', () => ({ payload: body({ candidates: [candidate({ category: undefined })] }) })],
    ['candidate unknown field', 400, 'candidates[0].bidd', () => ({ payload: body({ candidates: [candidate({ bidd: 2 })] }) })],
    ['k zero', 400, 'k', () => ({ payload: body({ k: 0 }) })],
    ['k above 100', 400, 'k', () => ({ payload: body({ k: 101 }) })],
    ['k not an integer', 400, 'k', () => ({ payload: body({ k: 2.5 }) })],
    ['unknown top-level field', 400, 'user', () => ({ payload: body({ user: 'x' }) })],
    ['body a JSON array', 400, '(root)', () => ({ payload: [body()] })],
    ['body not JSON', 400, '(body)', () => ({ payload: '{"userId": "u1",', headers: { 'content-type': 'application/json' } })],
    ['body empty with a JSON content type', 400, '(body)', () => ({ payload: '', headers: { 'content-type': 'application/json' } })],
    ['prototype poisoning', 400, '(body)', () => ({ payload: '{"userId":"u1","__proto__":{"admin":true}}', headers: { 'content-type': 'application/json' } })],
    ['content type text/plain', 415, 'content-type', () => ({ payload: 'userId=u1', headers: { 'content-type': 'text/plain' } })],
    ['content type not JSON', 415, 'content-type', () => ({ payload: '<userId>u1</userId>', headers: { 'content-type': 'application/xml' } })],
    ['body over gateway.bodyLimitBytes', 413, '(body)', () => ({ payload: body({ padding: 'x'.repeat(25_000) }) })],
  ];

  it.each(cases)('%s → %i naming %s', async (_name, status, field, make) => {
    const { payload, headers } = make();
    const res = await app.inject({ method: 'POST', url: '/v1/rank', headers: { ...CLIENT, ...headers }, payload: payload as string });
    expect(res.statusCode).toBe(status);
    const err = res.json();
    expect(err.code).toMatch(/^PCTR_/);
    expect(err.details.field).toBe(field);
    if (!field.startsWith('(')) expect(err.message).toContain(field);
  });
});

describe('keys, roles and limits', () => {
  it('401 without a key or with an unknown one, naming how to send it', async () => {
    const none = await app.inject({ method: 'POST', url: '/v1/rank', payload: body() });
    expect(none.statusCode).toBe(401);
    expect(none.json()).toMatchObject({ code: 'PCTR_UNAUTHORIZED' });
    expect(none.json().message).toMatch(/Authorization: Bearer <key>.*x-api-key/);
    const unknown = await app.inject({ method: 'POST', url: '/v1/rank', headers: { authorization: 'Bearer nope-nope' }, payload: body() });
    expect(unknown.statusCode).toBe(401);
    expect(unknown.json().message).toMatch(/unknown API key nop\*\*\*/);
  });

  it('403 for a client key on an admin route; an admin key may rank', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/admin/config', headers: CLIENT });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ code: 'PCTR_FORBIDDEN', details: { role: 'client', needs: 'admin' } });
    expect((await app.inject({ method: 'POST', url: '/v1/rank', headers: ADMIN, payload: body() })).statusCode).toBe(200);
  });

  it('429 past the per-key limit, per key, and never on health routes', async () => {
    const limited = await openTestGateway({ overrides: { 'gateway.rateLimitPerMinute': 3 }, requests: 2 });
    try {
      const rank = (headers: Record<string, string>) => limited.app.inject({ method: 'POST', url: '/v1/rank', headers, payload: body() });
      for (let i = 0; i < 3; i++) expect((await rank(CLIENT)).statusCode).toBe(200);
      const over = await rank(CLIENT);
      expect(over.statusCode).toBe(429);
      expect(over.json()).toMatchObject({ code: 'PCTR_RATE_LIMITED', details: { limitPerMinute: 3 } });
      expect(over.json().message).toMatch(/API key tes\*\*\* exceeded 3 requests per minute/);
      expect(over.headers['retry-after']).toBeDefined();
      expect((await rank(ADMIN)).statusCode).toBe(200);
      for (let i = 0; i < 5; i++) expect((await limited.app.inject({ url: '/readyz' })).statusCode).toBe(200);
    } finally {
      await limited.close();
    }
  });

  it('404 naming the route for an unknown path', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/nothing?x=1', headers: CLIENT });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ code: 'PCTR_NOT_FOUND' });
    expect(res.json().message).toContain('GET /v1/nothing');
  });
});

describe('POST /v1/events', () => {
  it('appends valid clicks to the clicks topic (ts defaults to now) and lists each invalid one by index and field', async () => {
    const rank = (await app.inject({ method: 'POST', url: '/v1/rank', headers: CLIENT, payload: body() })).json();
    const [a, b] = rank.ads.map((x: { impressionId: string }) => x.impressionId);
    const before = Date.now();
    const res = await app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: CLIENT,
      payload: {
        events: [
          { type: 'click', impressionId: a, ts: 1_700_000_000_000 },
          { type: 'click', ts: 5 },
          { type: 'view', impressionId: a, ts: 5 },
          { type: 'click', impressionId: b, ts: 5, extra: 1 },
          { type: 'click', impressionId: b, ts: 'soon' },
          { type: 'click', impressionId: b },
        ],
      },
    });
    expect(res.statusCode).toBe(200);
    const out = res.json();
    expect(out).toMatchObject({ accepted: 2, rejected: 4 });
    expect(out.errors.map((e: { field: string }) => e.field)).toEqual(['events[1].impressionId', 'events[2].type', 'events[3].extra', 'events[4].ts']);
    expect(out.errors.map((e: { index: number }) => e.index)).toEqual([1, 2, 3, 4]);
    const clicks = (await readTopic(gw.log, TOPICS.clicks, 2)).map((r) => ({ key: r.key, click: Click.parse(JSON.parse(r.value)) }));
    expect(clicks.map((c) => c.key).sort()).toEqual([a, b].sort());
    expect(clicks.find((c) => c.key === a)!.click.ts).toBe(1_700_000_000_000);
    expect(clicks.find((c) => c.key === b)!.click.ts).toBeGreaterThanOrEqual(before);
  });

  it('400 when no event is valid, or the batch itself is malformed', async () => {
    const none = await app.inject({ method: 'POST', url: '/v1/events', headers: CLIENT, payload: { events: [{ type: 'click' }] } });
    expect(none.statusCode).toBe(400);
    expect(none.json()).toMatchObject({ code: 'PCTR_VALIDATION', details: { field: 'events[0].impressionId', rejected: 1 } });
    for (const [payload, field] of [
      [{ events: [] }, 'events'],
      [{ events: 'click' }, 'events'],
      [{ events: [3] }, 'events[0]'],
      [{}, 'events'],
    ] as const) {
      const res = await app.inject({ method: 'POST', url: '/v1/events', headers: CLIENT, payload });
      expect(res.statusCode).toBe(400);
      expect(res.json().details.field).toBe(field);
    }
  });
});

describe('admin routes', () => {
  it('shows the config with keys and URL credentials redacted', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/admin/config', headers: ADMIN });
    expect(res.statusCode).toBe(200);
    const text = res.body;
    expect(text).not.toContain('test-client');
    expect(res.json().gateway.apiKeys).toEqual([
      { key: 'tes***', role: 'client' },
      { key: 'tes***', role: 'admin' },
    ]);
    expect(res.json().registry.url).toBe(gw.config.registry.url);
  });

  it('promotes a version (this gateway serves it at once), rolls back, and refuses unknown or corrupt versions', async () => {
    const v2 = await registerFixtureModel(gw.registry, await trainFixtureModel({ seed: 5, examples: 3_000 }));
    const promoted = await app.inject({ method: 'POST', url: '/v1/admin/models/ctr/promote', headers: ADMIN, payload: { version: v2, reason: 'test' } });
    expect(promoted.statusCode).toBe(200);
    expect(promoted.json()).toMatchObject({ name: 'ctr', alias: 'champion', action: 'set', fromVersion: 1, toVersion: v2, reason: 'test', serving: { version: `ctr@${v2}` } });
    expect((await app.inject({ method: 'POST', url: '/v1/rank', headers: CLIENT, payload: body() })).json().modelVersion).toBe(`ctr@${v2}`);

    const back = await app.inject({ method: 'POST', url: '/v1/admin/models/ctr/rollback', headers: ADMIN, payload: {} });
    expect(back.statusCode).toBe(200);
    expect(back.json()).toMatchObject({ action: 'rollback', fromVersion: v2, toVersion: 1, serving: { version: 'ctr@1' } });

    const unknown = await app.inject({ method: 'POST', url: '/v1/admin/models/ctr/promote', headers: ADMIN, payload: { version: 99 } });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().code).toBe('PCTR_UNKNOWN_MODEL');

    const v3 = await gw.registry.get('ctr', await registerFixtureModel(gw.registry, await trainFixtureModel({ seed: 9, examples: 2_000 })));
    writeFileSync(join(gw.config.registry.artifacts, 'sha256', v3.digest.slice(0, 2), v3.digest), 'garbage');
    const corrupt = await app.inject({ method: 'POST', url: '/v1/admin/models/ctr/promote', headers: ADMIN, payload: { version: v3.version } });
    expect(corrupt.statusCode).toBe(409);
    expect(corrupt.json()).toMatchObject({ code: 'PCTR_CONFLICT', details: { field: 'version', cause: 'PCTR_ARTIFACT_CORRUPT' } });
    expect((await gw.registry.get('ctr', '@champion')).version).toBe(1);
    expect(app.serving.holder.champion.label).toBe('ctr@1');

    const bad = await app.inject({ method: 'POST', url: '/v1/admin/models/ctr/promote', headers: ADMIN, payload: { version: 'two' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().details.field).toBe('version');
  });
});

describe('health, metrics and OpenAPI', () => {
  it('healthz and readyz answer without a key; readyz names the served model', async () => {
    expect((await app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
    const ready = await app.inject({ url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ status: 'ready', model: { version: 'ctr@1', kind: 'ftrl' }, challenger: 'none', onlineStore: { status: 'ok' } });
  });

  it('before any model is registered the prior serves and readyz says model: none', async () => {
    const empty = await openTestGateway({ requests: 2 });
    try {
      const res = await empty.app.inject({ method: 'POST', url: '/v1/rank', headers: CLIENT, payload: body() });
      expect(res.statusCode).toBe(200);
      expect(res.json().modelVersion).toBe('ctr@prior');
      expect((await empty.app.inject({ url: '/readyz' })).json()).toMatchObject({ status: 'ready', model: 'none' });
    } finally {
      await empty.close();
    }
  });

  it('metrics show request latency per route, candidates scored, impressions per version and feature-store reads', async () => {
    await app.inject({ method: 'POST', url: '/v1/rank', headers: CLIENT, payload: body() });
    const res = await app.inject({ url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/plain/);
    expect(res.body.startsWith('# HELP')).toBe(true);
    for (const line of [
      /pctr_http_request_duration_seconds_count\{route="\/v1\/rank",method="POST",status="200"\} \d+/,
      /pctr_http_request_duration_seconds_count\{route="\/v1\/rank",method="POST",status="400"\} \d+/,
      /pctr_candidates_scored_total \d+/,
      /pctr_impressions_served_total\{model_version="ctr@1"\} \d+/,
      /pctr_feature_store_reads_total \d+/,
      /pctr_serving_degraded 0/,
      /pctr_model_info\{alias="champion",version="ctr@1",kind="ftrl"\} 1/,
      /pctr_events_accepted_total\{type="click"\} \d+/,
    ]) {
      expect(res.body).toMatch(line);
    }
  });

  it('serves a complete OpenAPI document: every route, its body and response schemas, both key schemes', async () => {
    const doc = (await app.inject({ url: '/docs/json' })).json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(['apiKey', 'bearer']);
    const rank = doc.paths['/v1/rank'].post;
    const schema = rank.requestBody.content['application/json'].schema;
    expect(schema.required).toEqual(expect.arrayContaining(['userId', 'context', 'candidates']));
    expect(schema.properties.candidates.maxItems).toBe(50);
    expect(rank.responses['200'].content['application/json'].schema.properties.ads.items.required).toEqual(
      expect.arrayContaining(['adId', 'impressionId', 'pCTR', 'eCPM', 'position']),
    );
    expect(rank.responses['4XX']).toBeDefined();
    for (const [path, method] of [
      ['/v1/events', 'post'],
      ['/v1/admin/models/{name}/promote', 'post'],
      ['/v1/admin/models/{name}/rollback', 'post'],
      ['/v1/admin/config', 'get'],
      ['/healthz', 'get'],
      ['/readyz', 'get'],
      ['/metrics', 'get'],
    ]) {
      expect(doc.paths[path]?.[method]?.responses?.['200'], `${method} ${path}`).toBeDefined();
    }
    expect(doc.paths['/v1/events'].post.requestBody).toBeDefined();
    expect(doc.paths['/v1/admin/models/{name}/promote'].post.parameters[0]).toMatchObject({ name: 'name', in: 'path' });
  });
});
