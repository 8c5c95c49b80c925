/**
 * The webhook against a real HTTP receiver on this machine: every delivery is a JSON POST whose
 * X-Pctr-Signature is the HMAC-SHA256 of the exact body with the shared secret; a failing receiver
 * is retried with backoff; an alert firing and a promotion and rollback through the gateway's admin
 * routes (the registry's onAliasChange hook) each send one.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aliasWebhookHook, Webhook, type WebhookEvent } from '../src/monitoring/index.ts';
import { FIXTURE_START_TS, trainFixtureModel } from '../src/serving/testing/fixtures.ts';
import { fixtureModel, waitFor } from '../src/serving/testing/gateway-fixture.ts';
import { ADMIN, CLIENT, driveMarket, openMonitoredGateway, type MonitoredGateway } from './helpers/monitored-gateway.ts';

const SECRET = 's3cret-for-tests';

interface Received {
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** A receiver that answers the first `failFirst` requests with 503, then 200. */
async function receiver(failFirst = 0): Promise<{ url: string; got: Received[]; server: Server }> {
  const got: Received[] = [];
  let seen = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (seen++ < failFirst) {
        res.writeHead(503).end();
        return;
      }
      got.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, got, server };
}

/** What a receiver does: recompute the HMAC over the raw body and compare in constant time. */
function verified(r: Received): WebhookEvent {
  const sent = String(r.headers['x-pctr-signature']);
  const expected = `sha256=${createHmac('sha256', SECRET).update(r.body).digest('hex')}`;
  expect(sent.length).toBe(expected.length);
  expect(timingSafeEqual(Buffer.from(sent), Buffer.from(expected))).toBe(true);
  expect(r.headers['content-type']).toBe('application/json');
  const event = JSON.parse(r.body) as WebhookEvent;
  expect(r.headers['x-pctr-event']).toBe(event.type);
  expect(r.headers['x-pctr-delivery']).toBe(event.id);
  return event;
}

const servers: Server[] = [];
afterAll(() => {
  for (const s of servers) s.close();
});

describe('Webhook', () => {
  it('signs the body and retries a failing receiver with backoff until it answers', async () => {
    const r = await receiver(2);
    servers.push(r.server);
    const outcomes: string[] = [];
    const hook = new Webhook({ url: r.url, secret: SECRET, attempts: 4, backoffMs: 20, onOutcome: (o) => outcomes.push(o) });
    hook.send('alert.fired', { id: 'x', value: 1 });
    await hook.idle();
    expect(r.got).toHaveLength(1);
    expect(verified(r.got[0])).toMatchObject({ type: 'alert.fired', data: { id: 'x', value: 1 } });
    expect(outcomes).toEqual(['delivered']);
    // A tampered body no longer matches the signature.
    const sig = String(r.got[0].headers['x-pctr-signature']);
    expect(`sha256=${createHmac('sha256', SECRET).update(r.got[0].body.replace('"value":1', '"value":2')).digest('hex')}`).not.toBe(sig);
    await hook.close();
  });

  it('gives up after its attempts, counting the failure, and never throws to the sender', async () => {
    const r = await receiver(100);
    servers.push(r.server);
    const outcomes: string[] = [];
    const hook = new Webhook({ url: r.url, secret: SECRET, attempts: 2, backoffMs: 5, onOutcome: (o) => outcomes.push(o) });
    hook.send('model.promoted', {});
    await hook.idle();
    expect(outcomes).toEqual(['failed']);
    expect(hook.stats.failed).toBe(1);
    await hook.close();
  });
});

describe('webhook from the running system', () => {
  let gw: MonitoredGateway;
  let got: Received[];
  let hook: Webhook;

  beforeAll(async () => {
    const r = await receiver();
    servers.push(r.server);
    got = r.got;
    hook = new Webhook({ url: r.url, secret: SECRET, backoffMs: 20 });
    gw = await openMonitoredGateway({
      models: [await fixtureModel(), await trainFixtureModel({ seed: 5, examples: 2_000 })],
      overrides: { 'monitoring.webhookUrl': r.url, 'monitoring.webhookSecret': SECRET },
      webhook: hook,
      onAliasChange: aliasWebhookHook(hook),
    });
    await driveMarket(gw.app, { requests: 20, startTs: FIXTURE_START_TS });
    got.length = 0;
  });

  afterAll(async () => {
    await gw?.close();
  });

  it('posts alert.fired when an alert fires', async () => {
    await gw.runs.createRun({ id: 'run-x', pipeline: 'batch', trigger: 'cron', range: null, params: {}, steps: ['extract'] });
    await gw.runs.startStep('run-x', 'extract');
    await gw.runs.failStep('run-x', 'extract', { code: 'PCTR_DATA_INVALID', message: 'offline store is empty' }, 3);
    await gw.runs.finishRun('run-x', { status: 'failed', error: { code: 'PCTR_DATA_INVALID', message: 'offline store is empty' } });
    await gw.monitor.refresh();
    gw.monitor.evaluate();
    const isTraining = (r: Received) => JSON.parse(r.body).type === 'alert.fired' && JSON.parse(r.body).data.rule === 'training_failed';
    await waitFor('the alert webhook', () => got.some(isTraining));
    const event = verified(got.find(isTraining)!);
    expect(event.data).toMatchObject({ id: 'training_failed:batch', rule: 'training_failed', severity: 'alert', box: 'training' });
  });

  it('posts model.promoted and model.rolled_back for moves through the admin routes; a client key is refused', async () => {
    got.length = 0;
    const refused = await gw.app.inject({ method: 'POST', url: '/v1/admin/models/ctr/promote', headers: CLIENT, payload: { version: 2 } });
    expect(refused.statusCode).toBe(403);
    const promoted = await gw.app.inject({ method: 'POST', url: '/v1/admin/models/ctr/promote', headers: ADMIN, payload: { version: 2 } });
    expect(promoted.statusCode, promoted.body).toBe(200);
    const rolled = await gw.app.inject({ method: 'POST', url: '/v1/admin/models/ctr/rollback', headers: ADMIN, payload: {} });
    expect(rolled.statusCode, rolled.body).toBe(200);
    await waitFor('two alias webhooks', () => got.length >= 2);
    const events = got.map(verified);
    expect(events.map((e) => e.type)).toEqual(['model.promoted', 'model.rolled_back']);
    expect(events[0].data).toMatchObject({ name: 'ctr', alias: 'champion', action: 'set', fromVersion: 1, toVersion: 2 });
    expect(events[1].data).toMatchObject({ name: 'ctr', alias: 'champion', action: 'rollback', fromVersion: 2, toVersion: 1 });
  });

  it('keeps the webhook secret out of the admin config answer', async () => {
    const res = await gw.app.inject({ method: 'GET', url: '/v1/admin/config', headers: ADMIN });
    const monitoring = (res.json() as { monitoring: { webhookSecret: string; webhookUrl: string } }).monitoring;
    expect(monitoring.webhookSecret).toBe('***');
    expect(res.body).not.toContain(SECRET);
  });
});
