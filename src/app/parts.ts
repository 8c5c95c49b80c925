/**
 * The background parts of the embedded system that run in worker threads, each on its own handle
 * of the event log: the streaming join (impressions + clicks → labeled examples), the offline sink
 * (examples → Parquet by hour) and the continuous learner (examples → FTRL → registry through the
 * gate). None of them needs what the main thread holds (the in-memory online store, the HTTP
 * server), so they use the second core instead of delaying ranking. Each part is opened from the
 * plain config, runs until its signal aborts and reports plain-data stats.
 */
import { createLogger, type Config, type Logger } from '../core/index.ts';
import { createEventLog, type EventLog } from '../events/index.ts';
import { OfflineSink, createOfflineStore } from '../features/index.ts';
import { JoinWorker, joinWindowFromConfig, workerPartitions } from '../join/index.ts';
import { aliasWebhookHook, webhookFromConfig } from '../monitoring/index.ts';
import { TrainingService } from '../training/index.ts';

export const PART_NAMES = ['join', 'sink', 'learner'] as const;
export type PartName = (typeof PART_NAMES)[number];

export interface PartSettings {
  readonly config: Config;
  /** Learner parameters of the continuous learner (e.g. crosses). */
  readonly learnerParams: Readonly<Record<string, unknown>>;
  /** Offline sink flush cadence. */
  readonly sinkRows: number;
  readonly sinkIntervalMs: number;
}

export interface RunningPart {
  stats(): unknown;
  /** Settles when the part's loop ends: after `stop()`, or rejected when it failed on its own. */
  readonly done: Promise<void>;
  /** Stop the loop (final checkpoint or flush), close the part and its log handle. */
  stop(): Promise<void>;
}

type Opener = (s: PartSettings, log: EventLog, logger: Logger) => Promise<RunningPart>;

/** A part whose loop runs until `stop()` aborts its signal; `close` then releases what it opened. */
function loop(stats: () => unknown, run: (signal: AbortSignal) => Promise<unknown>, close: () => Promise<void>): RunningPart {
  const stopping = new AbortController();
  const done = run(stopping.signal).then(() => undefined);
  return {
    stats,
    done,
    stop: async () => {
      stopping.abort();
      await done.catch(() => undefined);
      await close();
    },
  };
}

const OPENERS: Record<PartName, Opener> = {
  async join(s, log, logger) {
    const c = s.config;
    const worker = await JoinWorker.open(log, {
      ...joinWindowFromConfig(c),
      partitions: workerPartitions(c.events.partitions, 0, 1),
      id: 'join',
      checkpointIntervalMs: c.join.checkpointIntervalMs,
      idleTimeoutMs: c.join.idleTimeoutMs,
      logger,
    });
    return loop(() => worker.stats(), (signal) => worker.run({ signal }), () => worker.close());
  },

  async sink(s, log, logger) {
    const store = createOfflineStore(s.config.features.offlineStore);
    const sink = new OfflineSink({ log, store, dir: store.dir, maxRows: s.sinkRows, flushIntervalMs: s.sinkIntervalMs, logger });
    await sink.start();
    return loop(
      () => sink.progress(),
      (signal) => sink.run({ signal }),
      async () => {
        await sink.close();
        await store.close();
      },
    );
  },

  async learner(s, log, logger) {
    // The learner's promotions go out on the webhook like the pipeline's (monitoring.webhookUrl).
    const webhook = webhookFromConfig(s.config.monitoring, { logger });
    const training = await TrainingService.open(s.config, { logger, ...(webhook ? { onAliasChange: aliasWebhookHook(webhook) } : {}) });
    const { learner, close } = await training.continuousLearner({ log, params: s.learnerParams });
    const done = learner.start();
    return {
      stats: () => learner.stats(),
      done,
      stop: async () => {
        await close();
        await training.close();
        await webhook?.close();
      },
    };
  },
};

/** Open a part on its own event-log handle (closed by `stop()` after the part). */
export async function openPart(name: PartName, settings: PartSettings): Promise<RunningPart> {
  const logger = createLogger({ level: settings.config.logLevel, name });
  const log = await createEventLog(settings.config.events, { logger });
  try {
    const part = await OPENERS[name](settings, log, logger);
    return { ...part, stop: () => part.stop().finally(() => log.close()) };
  } catch (e) {
    await log.close();
    throw e;
  }
}
