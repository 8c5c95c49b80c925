/**
 * A PyTorch-exported model through the loop: `pctr models import-onnx` registers the fixture DeepFM
 * (test/fixtures/onnx) with its feature spec, and the gateway serves it as champion — loaded by the
 * model holder like any artifact, smoke-tested, and scoring 100 candidates per request through
 * ONNX Runtime (the ranker awaits AsyncModel.predictAsync).
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../src/core/index.ts';
import { registerModelsCommand } from '../src/cli/commands/models.command.ts';
import { isAsyncModel, loadModel, onnxArtifactFromFiles } from '../src/models/index.ts';
import { createRegistry } from '../src/registry/index.ts';
import { openTestGateway, type TestGateway } from '../src/serving/testing/gateway-fixture.ts';
import { tempDir } from './helpers/services.ts';

const FIXTURE = fileURLToPath(new URL('./fixtures/onnx/', import.meta.url));
const MODEL = join(FIXTURE, 'deepfm.onnx');
const SPEC = join(FIXTURE, 'spec.json');

describe('pctr models import-onnx', () => {
  it('registers the ONNX model and its spec as a version and promotes it', async () => {
    const tmp = tempDir('import-onnx');
    try {
      const env = { PCTR_REGISTRY: `sqlite:${join(tmp.dir, 'registry.db')}`, PCTR_ARTIFACTS: join(tmp.dir, 'artifacts'), PCTR_LOG_LEVEL: 'warn' };
      let out = '';
      const program = new Command('pctr').exitOverride().option('-c, --config <file>');
      registerModelsCommand(program, { env, out: { write: (s: string) => (out += s) } });
      await program.parseAsync(['node', 'pctr', 'models', 'import-onnx', MODEL, '--spec', SPEC, '--name', 'ctr', '--promote', '--json']);
      expect(JSON.parse(out)).toMatchObject({ name: 'ctr', version: 1, kind: 'onnx', params: { format: 'pctr-onnx-spec/1' } });
      const registry = await createRegistry({ url: env.PCTR_REGISTRY, artifacts: env.PCTR_ARTIFACTS, logger: silentLogger });
      const champion = await registry.get('ctr', '@champion');
      const model = loadModel(await registry.loadArtifact(champion));
      await registry.close();
      expect(model.kind).toBe('onnx');
      expect(isAsyncModel(model)).toBe(true);
      await expect(program.parseAsync(['node', 'pctr', 'models', 'import-onnx', MODEL, '--spec', MODEL, '--name', 'ctr'])).rejects.toMatchObject({
        code: 'PCTR_VALIDATION',
        message: expect.stringContaining('is not JSON'),
      });
    } finally {
      tmp.remove();
    }
  });
});

describe('the gateway serving a PyTorch-exported champion', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    const { artifact } = await onnxArtifactFromFiles(MODEL, SPEC);
    gw = await openTestGateway({ champion: artifact, candidates: 100 });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('ranks 100 candidates with the ONNX model', async () => {
    const r = gw.requests[0];
    expect(r.candidates).toHaveLength(100);
    const res = await gw.app.inject({
      method: 'POST',
      url: '/v1/rank',
      headers: { authorization: 'Bearer test-client' },
      payload: { userId: r.userId, context: r.context, candidates: r.candidates, k: 10 },
    });
    expect(res.statusCode).toBe(200);
    const body = res.json() as { modelVersion: string; ads: { pCTR: number }[] };
    expect(body.modelVersion).toBe('ctr@1');
    expect(body.ads).toHaveLength(10);
    const pctrs = body.ads.map((a) => a.pCTR);
    for (const p of pctrs) expect(p > 0 && p < 1).toBe(true);
    expect(new Set(pctrs).size).toBeGreaterThan(1);
  });
});
