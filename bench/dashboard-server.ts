/**
 * The gateway of the dashboard-overhead benchmark: the serving benchmark's embedded gateway
 * (in-memory online store warmed from a file of feature rows, file event log, SQLite registry), and
 * with `--dashboard` also what a gateway with the dashboard runs: the monitor reading the
 * impressions, examples and unattributed-clicks topics in this process, the /api plugin and the
 * /dashboard static files. Prints `{"listening": url}` once it listens; SIGTERM stops it.
 *
 *   node --import tsx bench/dashboard-server.ts --config FILE --rows FILE [--dashboard]
 */
import { readFileSync } from 'node:fs';
import { createLogger, loadConfig } from '../src/core/index.ts';
import { dashboardApi, dashboardUi } from '../src/dashboard/index.ts';
import { createEventLog } from '../src/events/index.ts';
import { MemoryOnlineStore, type FeatureRow } from '../src/features/index.ts';
import { Monitor } from '../src/monitoring/index.ts';
import { createRegistry } from '../src/registry/index.ts';
import { buildApp } from '../src/serving/index.ts';
import { flag, hasFlag } from './lib/report.ts';

const config = loadConfig({ file: flag('config', '') });
const logger = createLogger({ level: config.logLevel, name: 'bench-dashboard-gateway' });
const store = new MemoryOnlineStore();
await store.put(JSON.parse(readFileSync(flag('rows', ''), 'utf8')) as FeatureRow[]);
const events = await createEventLog(config.events, { logger });
const registry = await createRegistry({ url: config.registry.url, artifacts: config.registry.artifacts, logger });
const monitor = hasFlag('dashboard') ? await Monitor.open({ config, log: events, registry, logger }) : null;
const plugins = monitor ? [dashboardApi({ monitor, registry, config }), dashboardUi()] : [];
const app = await buildApp({ config, store, events, registry, logger, plugins });
monitor?.start();
await app.listen({ host: config.gateway.host, port: config.gateway.port });
const port = (app.server.address() as { port: number }).port;
process.stdout.write(`${JSON.stringify({ listening: `http://${config.gateway.host}:${port}` })}\n`);
process.once('SIGTERM', () => {
  void (async () => {
    await app.close();
    await monitor?.close();
    await Promise.all([events.close(), registry.close(), store.close()]);
    process.stdout.write(`${JSON.stringify({ stopped: app.serving.predictions.stats() })}\n`);
  })();
});
