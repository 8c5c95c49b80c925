import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { Impression, TOPICS, loadConfig, pctrCommand, silentLogger } from '../../core/index.ts';
import { createEventLog } from '../../events/index.ts';
import { createOnlineStore } from '../../features/index.ts';
import { createRegistry } from '../../registry/index.ts';
import { fixtureRows, marketRequests, registerFixtureModel, trainFixtureModel } from '../../serving/testing/fixtures.ts';
import { fixtureModel, readTopic, waitFor } from '../../serving/testing/gateway-fixture.ts';
import { createPgSchema, dropRedisPrefix, pgUrl, redisUrl, tempDir, uniqueName } from '../../../test/helpers/services.ts';

/** Start `pctr gateway` with `env`; resolves with its address once it prints its JSON line. */
function startGateway(env: NodeJS.ProcessEnv): Promise<{ url: string; child: ChildProcess; stderr: () => string }> {
  const { command, args } = pctrCommand(['gateway', '--host', '127.0.0.1', '--port', '0', '--json']);
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (line) => resolve({ url: (JSON.parse(line) as { listening: string }).listening, child, stderr: () => err }));
    child.once('exit', (code) => reject(new Error(`pctr gateway exited with ${code} before listening: ${err}`)));
  });
}

async function stop(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.kill('SIGTERM');
  return exited;
}

interface Ranked {
  modelVersion: string;
  degraded: boolean;
  ads: { impressionId: string }[];
}

const post = (url: string, path: string, body: unknown) =>
  fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer cli-client' }, body: JSON.stringify(body) });
const rank = async (url: string, body: unknown) => (await (await post(url, '/v1/rank', body)).json()) as Ranked;
const ready = async (url: string) => (await (await fetch(`${url}/readyz`)).json()) as { model: 'none' | { version: string } };

let cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

describe('pctr gateway', () => {
  it('serves on the distributed backends (Redis event log and online store, PostgreSQL registry) and follows promotions', async () => {
    const pg = await createPgSchema('gw');
    const dir = tempDir('gateway-cli');
    const events = uniqueName('gwev');
    const features = uniqueName('gwfs');
    cleanup.push(pg.drop, () => dir.remove(), () => dropRedisPrefix(events), () => dropRedisPrefix(features));
    const env = {
      PCTR_DATA_DIR: dir.dir,
      PCTR_EVENTS: `${redisUrl()}?prefix=${events}`,
      PCTR_EVENT_PARTITIONS: '2',
      PCTR_ONLINE_STORE: `${redisUrl()}?prefix=${features}`,
      PCTR_REGISTRY: `${pgUrl()}?schema=${pg.schema}`,
      PCTR_ARTIFACTS: join(dir.dir, 'artifacts'),
      PCTR_API_KEYS: 'cli-client:client',
      PCTR_LOG_LEVEL: 'warn',
    };
    const registry = await createRegistry({ url: env.PCTR_REGISTRY, artifacts: env.PCTR_ARTIFACTS, logger: silentLogger });
    cleanup.push(() => registry.close());
    await registerFixtureModel(registry, await fixtureModel(), { alias: 'champion' });
    const requests = marketRequests(3, { candidates: 20 });
    const store = createOnlineStore(env.PCTR_ONLINE_STORE, { readTimeoutMs: 2_000 });
    await store.put(fixtureRows(requests));
    await store.close();

    const gw = await startGateway(env);
    cleanup.push(() => void gw.child.kill('SIGKILL'));
    const body = { userId: requests[0].userId, context: requests[0].context, candidates: requests[0].candidates, k: 4 };
    const first = await rank(gw.url, body);
    expect(first).toMatchObject({ modelVersion: 'ctr@1', degraded: false });
    expect(first.ads).toHaveLength(4);
    expect(await ready(gw.url)).toMatchObject({ model: { version: 'ctr@1' } });

    const v2 = await registerFixtureModel(registry, await trainFixtureModel({ seed: 31, examples: 2_000 }));
    await registry.setAlias('ctr', 'champion', v2);
    await waitFor('the gateway to serve the promoted version', async () => (await rank(gw.url, body)).modelVersion === `ctr@${v2}`);

    expect(await stop(gw.child)).toBe(0);
    const log = await createEventLog(loadConfig({ env }).events);
    try {
      const impressions = (await readTopic(log, TOPICS.impressions, 4)).map((r) => Impression.parse(JSON.parse(r.value)));
      const firstServed = impressions.filter((i) => first.ads.some((a) => a.impressionId === i.impressionId));
      expect(firstServed).toHaveLength(4);
      expect(firstServed.every((i) => i.modelVersion === 'ctr@1' && i.features.user_id === requests[0].userId)).toBe(true);
    } finally {
      await log.close();
    }
  });

  it('starts with no model at all (the prior serves), flushes its impressions to the file log on SIGTERM', async () => {
    const dir = tempDir('gateway-cli');
    cleanup.push(() => dir.remove());
    const env = { PCTR_DATA_DIR: dir.dir, PCTR_API_KEYS: 'cli-client:client', PCTR_LOG_LEVEL: 'warn', PCTR_EVENT_PARTITIONS: '2' };
    const gw = await startGateway(env);
    cleanup.push(() => void gw.child.kill('SIGKILL'));
    const request = marketRequests(1, { candidates: 10 })[0];
    const res = await post(gw.url, '/v1/rank', { userId: request.userId, context: request.context, candidates: request.candidates, k: 3 });
    expect(res.status).toBe(200);
    expect(((await res.json()) as Ranked).modelVersion).toBe('ctr@prior');
    expect((await ready(gw.url)).model).toBe('none');
    expect(await stop(gw.child)).toBe(0);
    expect(gw.stderr()).toMatch(/online store is memory:/);
    const log = await createEventLog(loadConfig({ env }).events);
    try {
      expect(await readTopic(log, TOPICS.impressions, 3)).toHaveLength(3);
    } finally {
      await log.close();
    }
  });
});
