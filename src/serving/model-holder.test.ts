import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../core/index.ts';
import { FtrlLearner, FtrlParams, encodeArtifact } from '../models/index.ts';
import { createRegistry, type Registry } from '../registry/index.ts';
import { SYNTHETIC_SCHEMA, sourceOf, syntheticBatch } from '../../test/helpers/synthetic-ctr.ts';
import { tempDir } from '../../test/helpers/services.ts';
import { createServingMetrics } from './metrics.ts';
import { ModelHolder } from './model-holder.ts';
import { registerFixtureModel, trainFixtureModel } from './testing/fixtures.ts';
import { fixtureModel, waitFor } from './testing/gateway-fixture.ts';

let dir: { dir: string; remove: () => void };
let registry: Registry;
let holder: ModelHolder | undefined;

const open = () => createRegistry({ url: `sqlite:${join(dir.dir, 'registry.db')}`, artifacts: join(dir.dir, 'artifacts'), logger: silentLogger, pollMs: 50 });

beforeEach(async () => {
  dir = tempDir('holder');
  registry = await open();
});

afterEach(async () => {
  await holder?.close();
  holder = undefined;
  await registry.close();
  dir.remove();
});

async function secondModel(): Promise<Uint8Array> {
  return trainFixtureModel({ seed: 11, examples: 3_000, alpha: 0.2 });
}

describe('ModelHolder', () => {
  it('serves the prior until a champion exists, then swaps the champion in when the alias is set', async () => {
    holder = new ModelHolder({ registry, name: 'ctr' });
    await holder.start();
    expect(holder.champion).toMatchObject({ alias: 'prior', label: 'ctr@prior', kind: 'prior' });
    expect(holder.route('u1').served.label).toBe('ctr@prior');

    // Promoted by another process (another registry instance on the same database): the watch sees it.
    const other = await open();
    await registerFixtureModel(other, await fixtureModel(), { alias: 'champion' });
    await other.close();
    await waitFor('the champion to be swapped in', () => holder!.champion.label === 'ctr@1');
    expect(holder.champion).toMatchObject({ alias: 'champion', version: 1, kind: 'ftrl' });
    expect(holder.status().loadFailures).toBe(0);
  });

  it('refuses an artifact whose bytes no longer match their checksum and keeps serving the old model', async () => {
    await registerFixtureModel(registry, await fixtureModel(), { alias: 'champion' });
    const metrics = createServingMetrics({ defaultMetrics: false });
    holder = new ModelHolder({ registry, name: 'ctr', metrics });
    await holder.start();
    expect(holder.champion.label).toBe('ctr@1');

    const v2 = await registry.get('ctr', await registerFixtureModel(registry, await secondModel()));
    const path = join(dir.dir, 'artifacts', 'sha256', v2.digest.slice(0, 2), v2.digest);
    writeFileSync(path, Buffer.from('not the artifact that was registered'));
    await registry.setAlias('ctr', 'champion', v2.version);
    await waitFor('the failed load to be recorded', () => holder!.status().loadFailures === 1);

    expect(holder.champion.label).toBe('ctr@1');
    expect(holder.status().lastLoadError).toMatchObject({ alias: 'champion', version: 2, code: 'PCTR_ARTIFACT_CORRUPT' });
    expect(holder.status().lastLoadError?.message).toMatch(/corrupt: expected sha256/);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/pctr_model_loads_total\{alias="champion",result="failure"\} 1/);
    expect(text).toMatch(/pctr_model_info\{alias="champion",version="ctr@1",kind="ftrl"\} 1/);
  });

  it('refuses a model that fails the smoke test (it reads fields the ranker does not serve)', async () => {
    await registerFixtureModel(registry, await fixtureModel(), { alias: 'champion' });
    holder = new ModelHolder({ registry, name: 'ctr' });
    await holder.start();
    const alien = new FtrlLearner(SYNTHETIC_SCHEMA, FtrlParams.parse({ bits: 12 }));
    await alien.fit(sourceOf(syntheticBatch(2_000)));
    const v = await registerFixtureModel(registry, encodeArtifact(alien.toArtifact()));
    await registry.setAlias('ctr', 'champion', v);
    const r = await holder.sync('champion');
    expect(r.failure).toMatchObject({ version: v, code: 'PCTR_MODEL_LOAD_FAILED' });
    expect(r.failure?.message).toMatch(/smoke test.*no field ad/);
    expect(holder.champion.label).toBe('ctr@1');
  });

  it('routes about the configured share of users to the challenger, the same user always to the same arm', async () => {
    await registerFixtureModel(registry, await fixtureModel(), { alias: 'champion' });
    await registerFixtureModel(registry, await secondModel(), { alias: 'challenger' });
    holder = new ModelHolder({ registry, name: 'ctr', challengerShare: 0.3 });
    await holder.start();
    let challenger = 0;
    for (let u = 0; u < 20_000; u++) {
      const route = holder.route(`user-${u}`);
      if (route.served.label === 'ctr@2') challenger++;
      expect(route.shadow).toBeNull();
    }
    expect(challenger / 20_000).toBeGreaterThan(0.28);
    expect(challenger / 20_000).toBeLessThan(0.32);
    for (let u = 0; u < 100; u++) expect(holder.route(`user-${u}`).served).toBe(holder.route(`user-${u}`).served);
  });

  it('in shadow mode serves the champion and scores the challenger beside it; a removed challenger alias ends that', async () => {
    await registerFixtureModel(registry, await fixtureModel(), { alias: 'champion' });
    await registerFixtureModel(registry, await secondModel(), { alias: 'challenger' });
    holder = new ModelHolder({ registry, name: 'ctr', shadow: true });
    await holder.start();
    const route = holder.route('anyone');
    expect(route.served.label).toBe('ctr@1');
    expect(route.shadow?.label).toBe('ctr@2');
    await registry.deleteAlias('ctr', 'challenger');
    await holder.sync('challenger');
    expect(holder.route('anyone').shadow).toBeNull();
  });

  it('without an A/B share or shadow mode it does not follow the challenger at all', async () => {
    await registerFixtureModel(registry, await fixtureModel(), { alias: 'champion' });
    await registerFixtureModel(registry, await secondModel(), { alias: 'challenger' });
    holder = new ModelHolder({ registry, name: 'ctr' });
    await holder.start();
    expect(holder.challenger).toBeNull();
    expect(holder.route('u').served.label).toBe('ctr@1');
  });
});
