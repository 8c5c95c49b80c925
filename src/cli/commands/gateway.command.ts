/**
 * `pctr gateway`: the serving gateway as its own process, on the backends the config names
 * (event log `events.url`, online store `features.onlineStore`, registry `registry.url`). It prints
 * one line when it listens (the address, what it serves), and on SIGTERM/SIGINT stops accepting,
 * finishes requests in flight, flushes queued impressions, then closes the backends.
 */
import type { Command } from 'commander';
import { createLogger, loadConfig, urlScheme, type Config } from '../../core/index.ts';
import { createEventLog } from '../../events/index.ts';
import { createOnlineStore } from '../../features/index.ts';
import { dashboardApi, dashboardUi } from '../../dashboard/index.ts';
import { Monitor, aliasWebhookHook, webhookFromConfig } from '../../monitoring/index.ts';
import { createRegistry } from '../../registry/index.ts';
import { buildApp, readiness, redactUrl, type GatewayPlugin } from '../../serving/index.ts';
import { createRunStore, runStoreUrl, type RunStore } from '../../training/index.ts';

interface GatewayFlags {
  host?: string;
  port?: string;
  json?: boolean;
  monitor?: boolean;
}

export function registerGatewayCommand(program: Command): void {
  program
    .command('gateway')
    .summary('Run the serving gateway (rank, events, admin, health, metrics, OpenAPI)')
    .description(
      'Run the serving gateway: POST /v1/rank, POST /v1/events, admin routes, /healthz, /readyz, /metrics, OpenAPI at /docs/json. ' +
        'It follows the registry aliases champion (and challenger with PCTR_CHALLENGER_SHARE or PCTR_SHADOW) and logs every served ad ' +
        'as an impression. Example: PCTR_ONLINE_STORE=redis://127.0.0.1:6379 pctr gateway --port 8080',
    )
    .option('--host <host>', 'listen address (default: gateway.host, PCTR_HOST)')
    .option('--port <port>', 'listen port, 0 = any free port (default: gateway.port, PCTR_PORT)')
    .option('--json', 'print the listening line as a JSON object')
    .option('--monitor', 'also run the monitor here (own consumer group, monitoring.group) and serve the dashboard: /api/*, /dashboard/, its metrics on /metrics')
    .action(async (flags: GatewayFlags, cmd: Command) => {
      const overrides: Record<string, unknown> = {};
      if (flags.host !== undefined) overrides['gateway.host'] = flags.host;
      if (flags.port !== undefined) overrides['gateway.port'] = flags.port;
      const config = loadConfig({ file: cmd.optsWithGlobals().config as string | undefined, overrides });
      await runGateway(config, flags.json === true, flags.monitor === true);
    });
}

async function runGateway(config: Config, json: boolean, monitored: boolean): Promise<void> {
  const logger = createLogger({ level: config.logLevel, name: 'gateway' });
  const events = await createEventLog(config.events, { logger });
  const store = createOnlineStore(config.features.onlineStore, { readTimeoutMs: config.features.onlineTimeoutMs });
  // Promotions and rollbacks through the admin routes go out on the webhook (monitoring.webhookUrl).
  const webhook = webhookFromConfig(config.monitoring, { logger });
  const registry = await createRegistry({ url: config.registry.url, artifacts: config.registry.artifacts, logger, ...(webhook ? { onAliasChange: aliasWebhookHook(webhook) } : {}) });
  let runs: RunStore | undefined;
  let monitor: Monitor | undefined;
  const closeBackends = async () => {
    await monitor?.close();
    await webhook?.close();
    await Promise.allSettled([events.close(), store.close(), registry.close(), runs?.close()]);
  };
  let app;
  try {
    const plugins: GatewayPlugin[] = [];
    if (monitored) {
      runs = await createRunStore(runStoreUrl(config), { logger });
      monitor = await Monitor.open({ config, log: events, registry, runs, logger });
      plugins.push(dashboardApi({ monitor, registry, runs, config }), dashboardUi());
    }
    app = await buildApp({ config, store, events, registry, logger, plugins });
    await app.listen({ host: config.gateway.host, port: config.gateway.port });
    monitor?.start();
  } catch (e) {
    await app?.close();
    await closeBackends();
    throw e;
  }
  if (urlScheme(config.features.onlineStore) === 'memory') {
    logger.warn('online store is memory: in a standalone gateway it stays empty (every entity gets the prior); use redis:// or pctr start');
  }
  const address = `http://${config.gateway.host.includes(':') ? `[${config.gateway.host}]` : config.gateway.host}:${(app.server.address() as { port: number }).port}`;
  const ready = readiness(app.serving);
  const model = ready.model === 'none' ? `${config.registry.modelName}@prior (no champion yet)` : ready.model.version;
  const line = { listening: address, model, onlineStore: redactUrl(config.features.onlineStore), events: redactUrl(config.events.url), registry: redactUrl(config.registry.url) };
  process.stdout.write(json ? `${JSON.stringify(line)}\n` : `pctr gateway listening on ${address} (model ${model}; online store ${line.onlineStore}; events ${line.events})\n`);

  const served = app;
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      logger.info({ signal }, 'gateway stopping: finishing requests in flight and flushing impressions');
      resolve();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  await served.close();
  const log = served.serving.predictions.stats();
  await closeBackends();
  logger.info({ impressionsAppended: log.appended, dropped: log.dropped }, 'gateway stopped');
}
