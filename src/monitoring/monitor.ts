/**
 * The monitor: reads the `impressions`, `examples` and `unattributed-clicks` topics with its own
 * consumer group (config monitoring.group) and keeps online evaluation per model version, feature
 * and pCTR drift, the join's view and recent traffic samples; every tick (1 s wall) it samples the
 * gateway in this process, and every few ticks refreshes the registry, run store and log offsets;
 * then it evaluates the alert rules. Alerts are also evaluated whenever event time has moved a
 * drift step since the last evaluation, so a replay at thousands of simulated seconds per second is
 * judged at the same event-time points as live traffic.
 *
 * Event time "now" is the clock when one is given (the simulator's), else the newest impression
 * read. Parts running in this process (gateway, join, aggregator, continuous learner) are attached
 * as sources for figures the topics cannot give.
 */
import { Registry as PromRegistry, type Metric } from 'prom-client';
import { TOPICS, errorMessage, silentLogger, type Clock, type Config, type Logger } from '../core/index.ts';
import type { EventLog } from '../events/index.ts';
import { ENTITY_TYPES, servedFeatureSchema, type AggregateProgress } from '../features/index.ts';
import type { JoinStats } from '../join/index.ts';
import type { Registry } from '../registry/index.ts';
import type { ServingParts } from '../serving/index.ts';
import type { ContinuousStats, RunStore } from '../training/index.ts';
import { alertChecks } from './alert-rules.ts';
import { Alerts } from './alerts.ts';
import { BaselineCollector, trainingReference } from './drift-reference.ts';
import { Drift, parseThresholds, type DriftReport } from './drift.ts';
import type { JoinTracker } from './join-tracker.ts';
import { createMonitorMetrics, type MetricsView, type MonitorMetrics } from './metrics.ts';
import type { OnlineEvaluator, WindowFigures } from './online-evaluator.ts';
import type { ExampleSample, RecentRequests } from './recent.ts';
import { ServingSampler } from './serving-sampler.ts';
import { SystemState } from './system-state.ts';
import { readTopicLoop } from './topic-reader.ts';
import { TrafficRecorder } from './traffic-recorder.ts';
import { webhookFromConfig } from './registry-hook.ts';
import type { Webhook } from './webhook.ts';

export interface MonitorSources {
  /** The gateway in this process: request rates and latency, degraded mode, logger queue. */
  readonly serving?: ServingParts;
  /** The join's stats when it runs in this process (null before its first report). */
  readonly join?: () => JoinStats | null;
  readonly aggregates?: () => AggregateProgress;
  readonly continuous?: () => ContinuousStats;
}

export interface MonitorOptions {
  readonly config: Config;
  readonly log: EventLog;
  readonly registry?: Registry;
  readonly runs?: RunStore;
  /** Event time (default: the newest impression read). */
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly sources?: MonitorSources;
  /** Default: built from config monitoring.webhookUrl (none when empty). */
  readonly webhook?: Webhook | null;
  /** Wall time between ticks (default 1000 ms); the registry, runs and offsets refresh every 5 ticks. */
  readonly tickMs?: number;
}

const REFRESH_EVERY = 5;
const BASELINE_FACTOR = 5;
const HOUR = 3_600_000;

export class Monitor implements MetricsView {
  readonly config: Config;
  readonly settings: Config['monitoring'];
  /** Prometheus registry of the monitor's metrics (also registered on an attached gateway's). */
  readonly metricsRegistry = new PromRegistry();
  readonly metrics: MonitorMetrics;
  readonly drift: Drift;
  readonly traffic: TrafficRecorder;
  readonly alerts: Alerts;
  readonly state: SystemState;
  readonly webhook: Webhook | null;
  private readonly opts: MonitorOptions;
  private readonly historyMs: number;
  private readonly logger: Logger;
  private sourcesNow: MonitorSources;
  private sampler: ServingSampler | null = null;
  private lastEvaluated = -Infinity;
  private lastReport: DriftReport;
  private loops: Promise<void>[] = [];
  private timer: NodeJS.Timeout | null = null;
  private ticks = 0;
  private ticking: Promise<void> | null = null;
  private readonly stopping = new AbortController();
  private attachedMetrics = new Set<PromRegistry>();

  private constructor(opts: MonitorOptions) {
    this.opts = opts;
    this.config = opts.config;
    const s = (this.settings = opts.config.monitoring);
    this.logger = opts.logger ?? silentLogger;
    this.sourcesNow = opts.sources ?? {};
    // Enough history for the sliding window and the CTR-drop rule's hour before it.
    this.historyMs = Math.max(s.historyMs, s.windowMs + s.settleMs + HOUR);
    this.drift = new Drift({
      windowMs: s.driftWindowMs,
      minRows: s.driftMinRows,
      threshold: s.driftThreshold,
      thresholds: parseThresholds(s.driftThresholds),
      ignore: new Set(s.driftIgnore.split(',').map((x) => x.trim()).filter(Boolean)),
      pctrThreshold: s.pctrDriftThreshold,
      baselineRows: BASELINE_FACTOR * s.driftMinRows,
    });
    this.lastReport = this.drift.report();
    this.traffic = new TrafficRecorder(this.drift, {
      bucketMs: s.bucketMs,
      historyMs: this.historyMs,
      examples: s.examples,
      sampleRate: s.sampleRate,
      attributionWindowMs: opts.config.join.attributionWindowMs,
    });
    this.metrics = createMonitorMetrics(this.metricsRegistry, this);
    this.webhook = opts.webhook !== undefined ? opts.webhook : webhookFromConfig(s, { logger: this.logger, onOutcome: (result, type) => this.metrics.webhookDeliveries.inc({ result, type }) });
    this.alerts = new Alerts({
      logger: this.logger,
      onChange: (change, alert) => this.webhook?.send(change === 'fired' ? 'alert.fired' : 'alert.resolved', alert),
    });
    this.state = new SystemState({ model: opts.config.registry.modelName, log: opts.log, registry: opts.registry, runs: opts.runs, monitorGroup: s.group, metrics: this.metrics, logger: this.logger });
  }

  /** A monitor with its first view of the registry and runs read (so the drift reference is in place before traffic). */
  static async open(opts: MonitorOptions): Promise<Monitor> {
    const m = new Monitor(opts);
    if (opts.sources?.serving) m.attach({ serving: opts.sources.serving });
    await m.refresh();
    return m;
  }

  /** Start reading the topics and ticking. */
  start(): void {
    if (this.loops.length > 0 || this.stopping.signal.aborted) return;
    const read = (topic: string, handle: (value: string) => boolean) =>
      readTopicLoop({
        log: this.opts.log,
        topic,
        group: this.settings.group,
        handle,
        signal: this.stopping.signal,
        logger: this.logger,
        afterBatch: (records, invalid) => {
          this.traffic.count(topic, records, invalid);
          const now = this.now();
          if (now !== null && now - this.lastEvaluated >= this.drift.stepMs) this.evaluate();
        },
      });
    const t = this.traffic;
    this.loops = [read(TOPICS.impressions, (v) => t.impression(v)), read(TOPICS.examples, (v) => t.example(v)), read(TOPICS.unattributedClicks, (v) => t.unattributed(v))];
    this.timer = setInterval(() => {
      this.ticking ??= this.tick().finally(() => (this.ticking = null));
    }, this.opts.tickMs ?? 1000);
    this.timer.unref();
  }

  /** Add parts running in this process; an attached gateway also shows the monitor's metrics on its /metrics. */
  attach(sources: MonitorSources): void {
    this.sourcesNow = { ...this.sourcesNow, ...sources };
    const serving = sources.serving;
    if (serving === undefined) return;
    this.sampler = new ServingSampler(serving);
    const target = serving.metrics.registry;
    if (this.attachedMetrics.has(target)) return;
    // The registry hands its metrics back typed as plain objects; they are the Metric instances it holds.
    for (const metric of this.metricsRegistry.getMetricsAsArray()) target.registerMetric(metric as unknown as Metric);
    this.attachedMetrics.add(target);
  }

  get sources(): MonitorSources {
    return this.sourcesNow;
  }

  get servingSampler(): ServingSampler | null {
    return this.sampler;
  }

  /** Event time now: the clock's, else the newest impression read (null before any). */
  now(): number | null {
    return this.opts.clock?.now() ?? this.traffic.newest;
  }

  get evaluator(): OnlineEvaluator {
    return this.traffic.evaluator;
  }

  get joinView(): JoinTracker {
    return this.traffic.joinView;
  }

  get examples(): ExampleSample {
    return this.traffic.examples;
  }

  get requests(): RecentRequests {
    return this.traffic.requests;
  }

  async close(): Promise<void> {
    this.stopping.abort();
    if (this.timer !== null) clearInterval(this.timer);
    await Promise.all(this.loops);
    await this.ticking;
    await this.webhook?.close();
  }

  // ------------------------------------------------------------ figures

  /**
   * The sliding window of a version: impressions in the buckets from `now − settle − window` up to
   * the bucket holding `now − settle` (or the hour before that window, for the CTR-drop baseline).
   */
  windowOf(version: string, before = false): WindowFigures {
    const now = this.now() ?? 0;
    const end = now - this.settings.settleMs - (before ? this.settings.windowMs : 0) + 1;
    return this.evaluator.window(version, end - (before ? HOUR : this.settings.windowMs), end);
  }

  /** `name@version` of the champion (`name@prior` when there is none). */
  championLabel(): string {
    const r = this.state.registry;
    const name = this.config.registry.modelName;
    return r?.champion ? `${name}@${r.champion.version}` : `${name}@prior`;
  }

  /** Join watermark lag: the join's own figure when it runs here, else estimated from the topics. */
  joinLagMs(): number | null {
    const stats = this.sourcesNow.join?.();
    if (stats) return stats.watermarkLagMs;
    return this.joinView.estimatedLagMs(this.traffic.newest);
  }

  /** The drift report of the latest evaluation. */
  driftReport(): DriftReport {
    return this.lastReport;
  }

  // MetricsView
  versions() {
    return this.evaluator.versions().map((version) => ({ version, totals: this.evaluator.totals(version), window: this.windowOf(version), recent: this.evaluator.recent(version) }));
  }
  windowSeconds(): number {
    return this.settings.windowMs / 1000;
  }
  join() {
    return { lagMs: this.joinLagMs(), backlog: this.state.joinBacklog, totals: this.joinView.total(), stats: this.sourcesNow.join?.() ?? null };
  }
  freshness() {
    const p = this.sourcesNow.aggregates?.();
    const now = this.now();
    const age = p === undefined || now === null || !Number.isFinite(p.eventTime) ? null : Math.max(0, now - p.eventTime);
    return ENTITY_TYPES.map((entity) => ({ entity, ageMs: age }));
  }
  aggregateBacklog(): number | null {
    return this.state.aggregateBacklog;
  }
  alertState() {
    return { active: this.alerts.active(), fired: this.alerts.fired };
  }
  registry() {
    const r = this.state.registry;
    if (r === null) return null;
    const moves = new Map<string, number>();
    for (const e of r.history) moves.set(`${e.alias}/${e.action}`, (moves.get(`${e.alias}/${e.action}`) ?? 0) + 1);
    return { model: r.model, versions: r.versions.length, champion: r.champion?.version ?? null, moves };
  }
  records() {
    return this.traffic.counts;
  }
  continuous(): ContinuousStats | null {
    return this.sourcesNow.continuous?.() ?? null;
  }
  // ------------------------------------------------------------ evaluation

  /** Evaluate the alert rules now (also called by the tick and as event time moves). */
  evaluate(): void {
    const now = this.now();
    if (now === null) return;
    this.lastEvaluated = now;
    this.lastReport = this.drift.report();
    const champion = this.championLabel();
    const serving = this.sourcesNow.serving;
    const versions = this.evaluator.versions().map((version) => ({
      version,
      window: this.windowOf(version),
      ...(version === champion ? { before: this.windowOf(version, true) } : {}),
    }));
    const lag = this.joinLagMs();
    if (lag !== null) this.joinView.sampleLag(now, lag);
    const { rules, checks } = alertChecks({
      settings: this.settings,
      versions: versions.filter((v) => v.window.impressions > 0),
      joinLagMs: lag,
      drift: this.lastReport.reference.source === 'none' ? null : this.lastReport,
      ...(serving ? { degraded: serving.features.status().status === 'degraded' } : {}),
      ...(this.opts.runs ? { runs: this.state.runs } : {}),
    });
    this.alerts.update(rules, checks, now);
  }

  /** Read the registry, runs and offsets now, and follow a new champion's drift reference. */
  async refresh(): Promise<void> {
    await this.state.refresh();
    const r = this.state.registry;
    const now = this.now();
    if (now !== null) {
      const name = this.config.registry.modelName;
      const keep = new Set([this.championLabel(), ...(r?.challenger ? [`${name}@${r.challenger.version}`] : [])]);
      this.evaluator.prune(now - this.historyMs, keep);
    }
    this.drift.setChampion(this.championLabel());
    const current = this.drift.currentReference;
    if (r?.champion && this.opts.runs) {
      try {
        const ref = await trainingReference(r.champion, r.versions, this.opts.runs);
        if (ref !== null && (current?.source !== 'training-run' || current.runId !== ref.runId)) {
          this.drift.setReference(ref);
          this.traffic.baseline = null;
          this.logger.info({ version: ref.version, runId: ref.runId }, 'drift reference: training data of the champion');
        }
      } catch (e) {
        this.logger.warn({ err: errorMessage(e) }, 'monitor cannot read the champion training run; drift reference unchanged');
      }
    }
    if (this.drift.currentReference === null && this.traffic.baseline === null) {
      this.traffic.baseline = new BaselineCollector(servedFeatureSchema(), BASELINE_FACTOR * this.settings.driftMinRows);
    }
  }

  private async tick(): Promise<void> {
    try {
      if (this.sampler !== null) await this.sampler.sample(Date.now());
      if (++this.ticks % REFRESH_EVERY === 0) await this.refresh();
      this.evaluate();
    } catch (e) {
      this.logger.error({ err: errorMessage(e) }, 'monitor tick failed');
    }
  }
}
