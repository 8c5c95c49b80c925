/**
 * The embedded gateway of the serving benchmark: what `pctr gateway` runs, but with the in-memory
 * online store warmed from a file of feature rows first (a standalone `pctr gateway` has no
 * aggregator filling its memory store). Prints `{"listening": url}` once it listens; SIGTERM stops it.
 *
 *   node --import tsx bench/serving-server.ts --config FILE --rows FILE
 */
import { readFileSync } from 'node:fs';
import { createLogger, loadConfig } from '../src/core/index.ts';
import { createEventLog } from '../src/events/index.ts';
import { MemoryOnlineStore, type FeatureRow } from '../src/features/index.ts';
import { createRegistry } from '../src/registry/index.ts';
import { buildApp } from '../src/serving/index.ts';
import { flag } from './lib/report.ts';

const config = loadConfig({ file: flag('config', '') });
const logger = createLogger({ level: config.logLevel, name: 'bench-gateway' });
const store = new MemoryOnlineStore();
await store.put(JSON.parse(readFileSync(flag('rows', ''), 'utf8')) as FeatureRow[]);
const events = await createEventLog(config.events, { logger });
const registry = await createRegistry({ url: config.registry.url, artifacts: config.registry.artifacts, logger });
const app = await buildApp({ config, store, events, registry, logger });
await app.listen({ host: config.gateway.host, port: config.gateway.port });
const port = (app.server.address() as { port: number }).port;
process.stdout.write(`${JSON.stringify({ listening: `http://${config.gateway.host}:${port}` })}\n`);
process.once('SIGTERM', () => {
  void (async () => {
    await app.close();
    await Promise.all([events.close(), registry.close(), store.close()]);
    process.stdout.write(`${JSON.stringify({ stopped: app.serving.predictions.stats() })}\n`);
  })();
});
