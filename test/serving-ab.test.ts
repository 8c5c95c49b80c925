/**
 * A/B through the gateway: with a challenger share configured, about that share of users is
 * served by the challenger, each user always by the same arm, and every impression says which
 * version served it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Impression, TOPICS } from '../src/core/index.ts';
import { AbRouter } from '../src/serving/index.ts';
import { registerFixtureModel, trainFixtureModel } from '../src/serving/testing/fixtures.ts';
import { fixtureModel, openTestGateway, readTopic, type TestGateway } from '../src/serving/testing/gateway-fixture.ts';

let gw: TestGateway;

beforeAll(async () => {
  gw = await openTestGateway({ champion: await fixtureModel(), overrides: { 'gateway.challengerShare': 0.25 }, requests: 2 });
  const v2 = await registerFixtureModel(gw.registry, await trainFixtureModel({ seed: 41, examples: 2_000 }), { alias: 'challenger' });
  await gw.app.serving.holder.sync('challenger');
  expect(gw.app.serving.holder.challenger?.label).toBe(`ctr@${v2}`);
});

afterAll(async () => {
  await gw.close();
});

describe('A/B split through the gateway', () => {
  it('serves about the configured share of users with the challenger and logs the serving version per impression', async () => {
    const r = gw.requests[0];
    const router = new AbRouter(0.25);
    const served = new Map<string, string>();
    for (let u = 0; u < 400; u++) {
      const userId = `ab-user-${u}`;
      const res = await gw.app.inject({ method: 'POST', url: '/v1/rank', headers: { authorization: 'Bearer test-client' }, payload: { userId, context: r.context, candidates: r.candidates, k: 1 } });
      const out = res.json() as { modelVersion: string; ads: { impressionId: string }[] };
      expect(out.modelVersion).toBe(router.inChallengerGroup(userId) ? 'ctr@2' : 'ctr@1');
      served.set(out.ads[0].impressionId, out.modelVersion);
    }
    const share = [...served.values()].filter((v) => v === 'ctr@2').length / served.size;
    expect(share).toBeGreaterThan(0.18);
    expect(share).toBeLessThan(0.32);
    await gw.app.serving.predictions.drain();
    const impressions = (await readTopic(gw.log, TOPICS.impressions, served.size)).map((rec) => Impression.parse(JSON.parse(rec.value)));
    for (const imp of impressions) expect(imp.modelVersion).toBe(served.get(imp.impressionId));
  });
});
