/**
 * The whole loop on embedded backends in one process: the file event log, the in-memory online
 * store, the SQLite registry and run store, the Parquet offline store, all under the data dir.
 *
 *   main thread:  gateway (HTTP) · streaming aggregates → online store · batch pipeline trigger
 *                 (its train step runs in a worker thread) · monitor + dashboard
 *   threads:      join (impressions + clicks → examples) · offline sink (examples → Parquet)
 *                 · continuous learner (examples → FTRL → registry, through the gate)
 *
 * The aggregates share the main thread with the gateway because the memory store they fill is the
 * one the ranker reads. Everything else talks through the event log and the registry, which several
 * threads and processes may open at once. `close()` stops the parts in dependency order: no new
 * requests, impressions flushed to the log, the join's final checkpoint, the learner and the sink,
 * the aggregates' last flush and checkpoint, then the stores.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { errorMessage, type Clock, type Config, type Logger } from '../core/index.ts';
import { dashboardApi, dashboardUi } from '../dashboard/index.ts';
import { createEventLog, type EventLog } from '../events/index.ts';
import { AggregateRunner, createOfflineStore, createOnlineStore, type AggregateProgress, type OnlineStore, type SinkProgress } from '../features/index.ts';
import type { JoinStats } from '../join/index.ts';
import { Monitor, aliasWebhookHook, webhookFromConfig } from '../monitoring/index.ts';
import { createRegistry, type Registry } from '../registry/index.ts';
import { buildApp, readiness, type GatewayPlugin } from '../serving/index.ts';
import { TrainingService, type BatchParamsInput, type ContinuousStats } from '../training/index.ts';
import { PartThread } from './part-thread.ts';
import type { PartSettings } from './parts.ts';
import { PipelineTrigger, type PipelineTriggerStats } from './pipeline-trigger.ts';

export interface EmbeddedSystemOptions {
  readonly config: Config;
  readonly logger: Logger;
  /** Event time "now" (the simulator's clock under --sim). */
  readonly clock: Clock;
  /** Learner parameters of the continuous learner and the batch pipeline (e.g. crosses). */
  readonly learnerParams: Readonly<Record<string, unknown>>;
  /** Event time between batch pipeline runs; 0 = on training.cron (wall clock) if set, else never. */
  readonly trainEveryMs: number;
  /** Run the monitor and serve the dashboard and its /api on the gateway. */
  readonly dashboard: boolean;
  readonly host: string;
  readonly port: number;
  /** What the aggregates write through, around the online store (`--workers`: a store that also feeds the workers' replicas). */
  readonly aggregatesStore?: (store: OnlineStore) => OnlineStore;
  /** More routes on the gateway (`--workers`: the workers' summed metrics). */
  readonly plugins?: readonly GatewayPlugin[];
}

/** A snapshot of every part, for the terminal view and the final summary. */
export interface SystemStatus {
  readonly model: string;
  readonly versionsPromoted: number;
  readonly impressionsLogged: number;
  readonly impressionsDropped: number;
  readonly join: JoinStats | null;
  readonly aggregates: AggregateProgress;
  readonly sink: SinkProgress | null;
  readonly learner: ContinuousStats | null;
  readonly pipeline: PipelineTriggerStats | null;
  /** Parts that failed and were restarted, with their last error. */
  readonly partFailures: readonly { readonly part: string; readonly failures: number; readonly lastFailure: string | null }[];
}

export class EmbeddedSystem {
  private promotions = 0;
  private readonly closers: { name: string; close: () => Promise<unknown> }[] = [];

  private constructor(
    private readonly opts: EmbeddedSystemOptions,
    readonly app: FastifyInstance,
    readonly address: string,
    readonly log: EventLog,
    readonly registry: Registry,
    readonly store: OnlineStore,
    private readonly aggregates: AggregateRunner,
    private readonly parts: { readonly join: PartThread; readonly sink: PartThread; readonly learner: PartThread },
    private readonly pipeline: PipelineTrigger | null,
  ) {}

  static async open(opts: EmbeddedSystemOptions): Promise<EmbeddedSystem> {
    const { config, logger, clock } = opts;
    mkdirSync(config.dataDir, { recursive: true });
    const closers: { name: string; close: () => Promise<unknown> }[] = [];
    const owned = <T extends { close(): Promise<unknown> }>(name: string, thing: T): T => (closers.unshift({ name, close: () => thing.close() }), thing);
    try {
      const log = owned('event log', await createEventLog(config.events, { logger }));
      // Alias moves in this process (the pipeline's promotions, the admin routes' rollbacks) go out on
      // the webhook (monitoring.webhookUrl); the monitor sends its alerts, and the learner thread its
      // promotions, on webhooks of their own to the same URL.
      const webhook = webhookFromConfig(config.monitoring, { logger });
      if (webhook) owned('webhook', webhook);
      const registry = owned('registry', await createRegistry({ url: config.registry.url, artifacts: config.registry.artifacts, logger, ...(webhook ? { onAliasChange: aliasWebhookHook(webhook) } : {}) }));
      const store = owned('online store', createOnlineStore(config.features.onlineStore, { readTimeoutMs: config.features.onlineTimeoutMs }));
      const offline = owned('offline store', createOfflineStore(config.features.offlineStore));
      const training = owned('training', await TrainingService.open(config, { registry, offline, clock, logger }));

      const aggregates = new AggregateRunner({
        log,
        store: opts.aggregatesStore?.(store) ?? store,
        stateFile: join(config.dataDir, 'aggregate', 'state.bin'),
        // The memory store starts empty: every restored window is written to it again.
        resync: true,
        attributionWindowMs: config.join.attributionWindowMs,
        logger,
      });
      await aggregates.start();
      const stopAggregates = new AbortController();
      const aggregating = aggregates.run({ signal: stopAggregates.signal });
      closers.unshift({ name: 'aggregates', close: async () => (stopAggregates.abort(), await aggregating, await aggregates.close()) });

      const settings: PartSettings = { config, learnerParams: opts.learnerParams, sinkRows: 50_000, sinkIntervalMs: 5_000 };
      const [joinPart, sink, learner] = await Promise.all((['join', 'sink', 'learner'] as const).map((name) => PartThread.start(name, settings, logger)));
      closers.unshift({ name: 'parts', close: () => Promise.all([joinPart.stop(), sink.stop(), learner.stop()]) });

      const params: Partial<BatchParamsInput> = { learner: { ...opts.learnerParams } };
      let pipeline: PipelineTrigger | null = null;
      if (opts.trainEveryMs > 0) {
        pipeline = new PipelineTrigger({ training, clock, everyMs: opts.trainEveryMs, params, logger });
        pipeline.start();
        const p = pipeline;
        // Closing the runner interrupts a run in progress (left failed, resumable by id) instead of waiting for it.
        closers.unshift({ name: 'pipeline', close: async () => (await training.runner.close(), await p.stop()) });
      } else if (config.training.cron) {
        await training.schedule(config.training.cron, params);
      }

      const plugins: GatewayPlugin[] = [...(opts.plugins ?? [])];
      if (opts.dashboard) {
        const monitor = await Monitor.open({
          config,
          log,
          registry,
          runs: training.runs,
          clock,
          logger,
          sources: { join: () => joinPart.stats() as JoinStats | null, aggregates: () => aggregates.progress(), continuous: () => learner.stats() as ContinuousStats },
        });
        monitor.start();
        closers.unshift({ name: 'monitor', close: () => monitor.close() });
        plugins.push(dashboardApi({ monitor, registry, runs: training.runs, dags: [training.dag], config }), dashboardUi());
      }

      const app = await buildApp({ config, store, events: log, registry, logger, clock, plugins });
      closers.unshift({ name: 'gateway', close: () => app.close() });
      await app.listen({ host: opts.host, port: opts.port });
      const port = (app.server.address() as { port: number }).port;
      const address = `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`;
      const system = new EmbeddedSystem(opts, app, address, log, registry, store, aggregates, { join: joinPart, sink, learner }, pipeline);
      system.closers.push(...closers);
      const champion = await registry.get(config.registry.modelName, '@champion').catch(() => null);
      const unwatch = registry.watch(config.registry.modelName, 'champion', () => system.promotions++, { known: champion?.version ?? null });
      system.closers.unshift({ name: 'watch', close: async () => unwatch() });
      return system;
    } catch (e) {
      await closeAll(closers, logger);
      throw e;
    }
  }

  /** Newest event time the aggregates have seen (restored from their checkpoint); null on a fresh data dir. */
  lastEventTime(): number | null {
    const t = this.aggregates.progress().eventTime;
    return Number.isFinite(t) ? t : null;
  }

  status(): SystemStatus {
    const ready = readiness(this.app.serving);
    const log = this.app.serving.predictions.stats();
    return {
      model: ready.model === 'none' ? `${this.opts.config.registry.modelName}@prior` : ready.model.version,
      versionsPromoted: this.promotions,
      impressionsLogged: log.appended,
      impressionsDropped: log.dropped,
      join: this.parts.join.stats() as JoinStats | null,
      aggregates: this.aggregates.progress(),
      sink: this.parts.sink.stats() as SinkProgress | null,
      learner: this.parts.learner.stats() as ContinuousStats | null,
      pipeline: this.pipeline?.stats() ?? null,
      partFailures: Object.values(this.parts)
        .map((p) => ({ part: p.name, ...p.status() }))
        .filter((p) => p.failures > 0),
    };
  }

  /** Graceful stop, newest part first: the gateway (flushing impressions), the pipeline, the threads, the aggregates, the stores. */
  async close(): Promise<void> {
    await closeAll(this.closers.splice(0), this.opts.logger);
  }
}

async function closeAll(closers: readonly { name: string; close: () => Promise<unknown> }[], logger: Logger): Promise<void> {
  for (const c of closers) {
    try {
      await c.close();
    } catch (e) {
      logger.warn({ part: c.name, err: errorMessage(e) }, `closing ${c.name} failed`);
    }
  }
}
