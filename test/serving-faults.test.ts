/**
 * Faults under load, through `app.inject()` with requests in flight the whole time: the Redis
 * online store killed and restarted (a throwaway redis-server on its own port), a new champion
 * swapped in, and a corrupt artifact promoted behind the gateway's back. No request may fail.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createOnlineStore, type OnlineStore } from '../src/features/index.ts';
import { fixtureRows, registerFixtureModel, trainFixtureModel } from '../src/serving/testing/fixtures.ts';
import { fixtureModel, openTestGateway, waitFor, type TestGateway } from '../src/serving/testing/gateway-fixture.ts';
import { tempDir } from './helpers/services.ts';

const CLIENT = { authorization: 'Bearer test-client' };

interface Answer {
  readonly status: number;
  readonly modelVersion?: string;
  readonly degraded?: boolean;
  readonly ads?: number;
}

/** Requests from `concurrency` loops until stopped; every answer is kept in order of arrival. */
function loadGenerator(app: FastifyInstance, bodies: readonly object[], concurrency = 4) {
  const answers: Answer[] = [];
  let stopped = false;
  const loops = Array.from({ length: concurrency }, async (_, w) => {
    for (let i = w; !stopped; i += concurrency) {
      const res = await app.inject({ method: 'POST', url: '/v1/rank', headers: CLIENT, payload: bodies[i % bodies.length] });
      const out = res.statusCode === 200 ? (res.json() as { modelVersion: string; degraded: boolean; ads: unknown[] }) : null;
      answers.push(out ? { status: 200, modelVersion: out.modelVersion, degraded: out.degraded, ads: out.ads.length } : { status: res.statusCode });
    }
  });
  return {
    answers,
    /** Resolves once `n` more answers than now have arrived. */
    more: (n: number) => {
      const target = answers.length + n;
      return waitFor(`${n} more answers`, () => answers.length >= target, 30_000);
    },
    stop: async () => {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

async function startRedis(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  const probe = createOnlineStore(`redis://127.0.0.1:${port}?prefix=probe`, { readTimeoutMs: 200 });
  try {
    await waitFor(`redis-server on port ${port}`, () => probe.get([{ entity: 'user', key: 'x' }]).then(() => true, () => false));
  } finally {
    await probe.close();
  }
  return child;
}

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

const bodiesOf = (gw: TestGateway) => gw.requests.map((r) => ({ userId: r.userId, context: r.context, candidates: r.candidates, k: 5 }));

describe('serving under faults', () => {
  it('keeps answering with default features while the online store is down, reports degraded, and recovers when it returns', async () => {
    const redisDir = tempDir('redis-kill');
    const port = await freePort();
    let redis = await startRedis(port, redisDir.dir);
    cleanup.push(async () => {
      redis.kill('SIGKILL');
      redisDir.remove();
    });
    // A generous read budget: on a loaded test machine a slow read must not pass for the outage.
    const store: OnlineStore = createOnlineStore(`redis://127.0.0.1:${port}?prefix=pctr`, { readTimeoutMs: 1_000 });
    cleanup.push(() => store.close());
    const gw = await openTestGateway({ store, requests: 10 });
    cleanup.push(() => gw.close());
    await store.put(fixtureRows(gw.requests));

    const load = loadGenerator(gw.app, bodiesOf(gw));
    await load.more(20);
    expect(load.answers.every((a) => a.degraded === false)).toBe(true);

    redis.kill('SIGKILL');
    await waitFor('a degraded answer', () => load.answers.some((a) => a.degraded === true));
    await load.more(20);
    const ready = (await gw.app.inject({ url: '/readyz' })).json();
    expect(ready).toMatchObject({ status: 'degraded', onlineStore: { status: 'degraded' } });
    expect(ready.onlineStore.failures).toBeGreaterThan(0);
    expect(ready.onlineStore.lastError.message).toMatch(/Redis at 127\.0\.0\.1/);
    const metrics = (await gw.app.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/pctr_serving_degraded 1/);
    expect(metrics).toMatch(/pctr_feature_store_failures_total\{reason="(unavailable|timeout)"\} [1-9]/);

    // The store comes back on the same port (empty: it kept nothing) and the aggregator refills it.
    redis = await startRedis(port, redisDir.dir);
    const rows = fixtureRows(gw.requests);
    await waitFor('the store to accept writes again', () => store.put(rows).then(() => true, () => false), 20_000);
    const recoveredAt = load.answers.length;
    await waitFor('an answer with live features again', () => load.answers.slice(recoveredAt).some((a) => a.degraded === false), 20_000);
    await load.more(20);
    await load.stop();

    expect(load.answers.slice(-10).every((a) => a.degraded === false)).toBe(true);
    expect((await gw.app.inject({ url: '/readyz' })).json()).toMatchObject({ status: 'ready', onlineStore: { status: 'ok' } });
    expect((await gw.app.inject({ url: '/metrics' })).body).toMatch(/pctr_serving_degraded 0/);
    // Not one request failed, and every answer served ads.
    expect(load.answers.filter((a) => a.status !== 200)).toEqual([]);
    expect(load.answers.every((a) => (a.ads ?? 0) > 0)).toBe(true);
  });

  it('swaps a new champion in under load without failing a request, and refuses a corrupt one behind its back', async () => {
    const gw = await openTestGateway({ champion: await fixtureModel(), requests: 10 });
    cleanup.push(() => gw.close());
    const load = loadGenerator(gw.app, bodiesOf(gw));
    await load.more(20);

    // Promoted the way `pctr models promote` or the pipeline does: straight in the registry.
    const v2 = await registerFixtureModel(gw.registry, await trainFixtureModel({ seed: 21, examples: 3_000 }));
    await gw.registry.setAlias('ctr', 'champion', v2);
    await waitFor('answers from the new champion', () => load.answers.some((a) => a.modelVersion === `ctr@${v2}`));
    await load.more(20);
    expect(load.answers.slice(-10).every((a) => a.modelVersion === `ctr@${v2}`)).toBe(true);

    const v3 = await gw.registry.get('ctr', await registerFixtureModel(gw.registry, await trainFixtureModel({ seed: 22, examples: 2_000 })));
    writeFileSync(join(gw.config.registry.artifacts, 'sha256', v3.digest.slice(0, 2), v3.digest), 'flipped bits');
    await gw.registry.setAlias('ctr', 'champion', v3.version);
    await waitFor('the refused load to show in readyz', async () => (await gw.app.inject({ url: '/readyz' })).json().modelLoads.failures === 1);
    await load.more(20);
    await load.stop();

    const ready = (await gw.app.inject({ url: '/readyz' })).json();
    expect(ready.model.version).toBe(`ctr@${v2}`);
    expect(ready.modelLoads.lastError).toMatchObject({ alias: 'champion', version: v3.version, code: 'PCTR_ARTIFACT_CORRUPT' });
    expect(load.answers.slice(-10).every((a) => a.modelVersion === `ctr@${v2}`)).toBe(true);
    expect(load.answers.filter((a) => a.status !== 200)).toEqual([]);
    expect(new Set(load.answers.map((a) => a.modelVersion))).toEqual(new Set(['ctr@1', `ctr@${v2}`]));
    expect((await gw.app.inject({ url: '/metrics' })).body).toMatch(/pctr_model_loads_total\{alias="champion",result="failure"\} 1/);
  });
});
