/**
 * The slow-moving state the monitor reads from the rest of the system every few seconds, kept so
 * that scrapes and dashboard calls never wait on a backend: the model's versions and aliases and
 * its alias history (registry), the latest pipeline runs (run store; newly finished ones are
 * counted into the training metrics once), and consumer lag of the join and the aggregator
 * (event log offsets). A backend that fails is logged and its last known state is kept.
 */
import { TOPICS, errorMessage, isPctrError, type Logger } from '../core/index.ts';
import type { EventLog } from '../events/index.ts';
import type { AliasEvent, ModelVersion, Registry } from '../registry/index.ts';
import type { RunRecord, RunStore } from '../training/index.ts';
import type { MonitorMetrics } from './metrics.ts';

/** Consumer groups whose lag the monitor reports (the join's transactional id and the aggregator's group). */
export const JOIN_GROUP = 'join';
export const AGGREGATE_GROUP = 'aggregate';

export interface RegistryState {
  readonly model: string;
  /** Oldest first. */
  readonly versions: readonly ModelVersion[];
  readonly champion: ModelVersion | null;
  readonly challenger: ModelVersion | null;
  /** Oldest first. */
  readonly history: readonly AliasEvent[];
}

export class SystemState {
  registry: RegistryState | null = null;
  /** Newest first. */
  runs: readonly RunRecord[] = [];
  joinBacklog: number | null = null;
  aggregateBacklog: number | null = null;
  monitorBacklog: number | null = null;
  /** Wall time of the last refresh that reached each backend. */
  refreshedAt = 0;
  private readonly seenRuns = new Set<string>();

  constructor(
    private readonly deps: {
      readonly model: string;
      readonly log: EventLog;
      readonly registry?: Registry;
      readonly runs?: RunStore;
      readonly monitorGroup: string;
      readonly metrics: MonitorMetrics;
      readonly logger: Logger;
    },
  ) {}

  async refresh(): Promise<void> {
    await Promise.all([this.readRegistry(), this.readRuns(), this.readOffsets()]);
    this.refreshedAt = Date.now();
  }

  private async readRegistry(): Promise<void> {
    const r = this.deps.registry;
    if (r === undefined) return;
    const model = this.deps.model;
    try {
      const [versions, history] = await Promise.all([r.list(model), r.aliasHistory(model)]);
      const withAlias = (a: string) => versions.find((v) => v.aliases.includes(a)) ?? null;
      this.registry = { model, versions, champion: withAlias('champion'), challenger: withAlias('challenger'), history };
    } catch (e) {
      if (isPctrError(e, 'PCTR_UNKNOWN_MODEL')) {
        this.registry = { model, versions: [], champion: null, challenger: null, history: [] };
        return;
      }
      this.deps.logger.warn({ err: errorMessage(e) }, 'monitor cannot read the model registry; keeping the last state');
    }
  }

  private async readRuns(): Promise<void> {
    const store = this.deps.runs;
    if (store === undefined) return;
    try {
      this.runs = await store.listRuns({ limit: 30 });
    } catch (e) {
      this.deps.logger.warn({ err: errorMessage(e) }, 'monitor cannot read the run store; keeping the last state');
      return;
    }
    const m = this.deps.metrics;
    for (const run of [...this.runs].reverse()) {
      if ((run.status !== 'succeeded' && run.status !== 'failed') || this.seenRuns.has(run.id)) continue;
      this.seenRuns.add(run.id);
      m.trainingRuns.inc({ pipeline: run.pipeline, status: run.status });
      for (const step of run.steps) if (step.durationMs !== null) m.stepDuration.observe({ pipeline: run.pipeline, step: step.name }, step.durationMs / 1000);
      if (run.gate !== null) m.gateDecisions.inc({ pipeline: run.pipeline, decision: run.gate.promoted ? 'promoted' : 'rejected' });
      if (run.finishedAt !== null) {
        m.lastRun.remove({ pipeline: run.pipeline, status: run.status === 'failed' ? 'succeeded' : 'failed' });
        m.lastRun.set({ pipeline: run.pipeline, status: run.status }, run.finishedAt / 1000);
      }
    }
  }

  private async readOffsets(): Promise<void> {
    const log = this.deps.log;
    try {
      const [impEnd, clickEnd, exEnd, unEnd] = await Promise.all([TOPICS.impressions, TOPICS.clicks, TOPICS.examples, TOPICS.unattributedClicks].map((t) => log.endOffsets(t)));
      const lag = async (topic: string, end: number[], group: string) => {
        const committed = await log.committedOffsets(topic, group);
        return end.reduce((sum, e, p) => sum + Math.max(0, e - Math.max(0, committed[p] ?? 0)), 0);
      };
      const g = this.deps.monitorGroup;
      const [joinImp, joinClicks, aggImp, aggEx, monImp, monEx, monUn] = await Promise.all([
        lag(TOPICS.impressions, impEnd, JOIN_GROUP),
        lag(TOPICS.clicks, clickEnd, JOIN_GROUP),
        lag(TOPICS.impressions, impEnd, AGGREGATE_GROUP),
        lag(TOPICS.examples, exEnd, AGGREGATE_GROUP),
        lag(TOPICS.impressions, impEnd, g),
        lag(TOPICS.examples, exEnd, g),
        lag(TOPICS.unattributedClicks, unEnd, g),
      ]);
      this.joinBacklog = joinImp + joinClicks;
      this.aggregateBacklog = aggImp + aggEx;
      this.monitorBacklog = monImp + monEx + monUn;
    } catch (e) {
      this.deps.logger.warn({ err: errorMessage(e) }, 'monitor cannot read event log offsets; keeping the last figures');
    }
  }
}
