/**
 * The embedded system's wiring of the monitoring webhook: with `monitoring.webhookUrl` set, an alias
 * move through the system's registry (what the batch pipeline and the admin routes use) is POSTed
 * to a real HTTP receiver as `model.promoted`, and a rollback as `model.rolled_back`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers/services.ts';
import { loadConfig, silentLogger, systemClock } from '../core/index.ts';
import { servedFeatureSchema } from '../features/index.ts';
import { createLearner, encodeArtifact } from '../models/index.ts';
import { EmbeddedSystem } from './embedded-system.ts';

const tmp = tempDir('embedded-webhook');
afterAll(() => tmp.remove());

describe('EmbeddedSystem with monitoring.webhookUrl', () => {
  it('sends the registry\'s alias moves to the webhook', async () => {
    const got: { type: string; data: { alias: string; toVersion: number | null; action: string } }[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        got.push(JSON.parse(body) as (typeof got)[number]);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    const config = loadConfig({ env: { PCTR_DATA_DIR: tmp.dir, PCTR_WEBHOOK_URL: url, PCTR_LOG_LEVEL: 'warn' } });
    const system = await EmbeddedSystem.open({ config, logger: silentLogger, clock: systemClock, learnerParams: {}, trainEveryMs: 0, dashboard: false, host: '127.0.0.1', port: 0 });
    try {
      const artifact = encodeArtifact(createLearner('ftrl', { bits: 12 }, servedFeatureSchema()).toArtifact());
      const v1 = await system.registry.register('ctr', artifact, { kind: 'ftrl', params: {}, metrics: {} });
      const v2 = await system.registry.register('ctr', artifact, { kind: 'ftrl', params: { l2: 2 }, metrics: {} });
      await system.registry.setAlias('ctr', 'champion', v1.version);
      await system.registry.setAlias('ctr', 'champion', v2.version);
      await system.registry.rollback('ctr', 'champion');
      for (let i = 0; i < 100 && got.length < 3; i++) await new Promise((r) => setTimeout(r, 50));
      expect(got.map((e) => [e.type, e.data.toVersion])).toEqual([
        ['model.promoted', v1.version],
        ['model.promoted', v2.version],
        ['model.rolled_back', v1.version],
      ]);
    } finally {
      await system.close();
      server.close();
    }
  });
});
