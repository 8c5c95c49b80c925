/**
 * The continuous learner: an online learner (FTRL) following the `examples` topic in its own
 * consumer group. Progressive validation: each polled batch is scored before the learner learns
 * from it, into a sliding window kept beside the same examples' served pCTRs; every N examples (or
 * M minutes of wall time) the window decides, through the batch pipeline's gate, whether a snapshot
 * of the learner is registered and made champion.
 *
 * It starts from the champion's weights when the champion is an online learner of the same kind
 * (dropping its post-hoc calibration, which was fitted for the batch model and would go stale as
 * the weights move), else from scratch. Offsets are committed after each batch is learned;
 * learning itself is not checkpointed — after a restart the learner warm-starts from the champion
 * again, which includes whatever it last published, and re-reads nothing already committed.
 *
 * Delayed feedback: the join emits a positive when its click arrives but a negative only when the
 * attribution window closes, so in arrival order the newest impressions look all-clicked. Learned
 * in that order, features that track time (the hour, an ad's recent counts) pass for click
 * signals, and progressive validation scores a slice's positives with an older model than its
 * negatives. With `holdMs` (the attribution window) every example waits until its label is final:
 * until the stream has moved `holdMs` past its impression *and* the join has emitted the negatives
 * up to it (the newest negative read in each partition of the topic marks how far the join's
 * watermark got there; a join that lags by minutes of event time would otherwise let the positives
 * through first; a partition with no traffic holds the others back by at most another `holdMs`).
 * Examples are then scored and learned in impression-time order, a window behind. Held examples
 * are not checkpointed either: a restart drops them, as it drops the learner's state.
 * Each batch is one synchronous learning step of at most `pollMax` examples between awaits, so the
 * event loop (of `pctr start`, serving beside it) is never blocked for long.
 *
 * Calibration: a snapshot is published with a Platt calibration fitted on the progressive window
 * (the learner's honest scores of recent examples), and judged with it. FTRL's regularization pulls
 * scores toward the mean, and ads served for their high pCTR are the ones whose pCTR was too high
 * (the winner's curse): both move the served mean away from the CTR unless corrected. The learner
 * itself keeps learning and scoring uncalibrated.
 */
import {
  PctrError,
  TOPICS,
  errorMessage,
  isPctrError,
  silentLogger,
  type FeatureSchema,
  type Logger,
} from '../../core/index.ts';
import type { Consumer, EventLog, LogRecord } from '../../events/index.ts';
import { servedFeatureSchema } from '../../features/index.ts';
import {
  Calibrator,
  NO_CALIBRATION,
  ProgressiveValidator,
  createLearner,
  evaluate,
  fitPlatt,
  isLearnerKind,
  isOnlineLearner,
  loadModel,
  type CalibrationSpec,
  type Metrics,
  type OnlineLearner,
} from '../../models/index.ts';
import type { Registry } from '../../registry/index.ts';
import { GateConfig } from '../gate.ts';
import { codeVersion } from '../pipeline/code-version.ts';
import type { RunStore } from '../run-store/run-store.ts';
import { sleep } from '../runners/runner.ts';
import { decodeExamples } from './example-batch.ts';
import { decideAndPublish, type PublishDecision } from './publish.ts';

/** The first `"ts":` of a labeled example's JSON is its impression time (clickTs has another name). */
const TS_FIELD = /"ts":(\d+)/;
const LABEL_FIELD = '"label":';

/** Whether a labeled example's JSON says label 0 (its last `"label":`; no feature has that name). */
function isNegative(value: string): boolean {
  const at = value.lastIndexOf(LABEL_FIELD);
  return at >= 0 && value.charCodeAt(at + LABEL_FIELD.length) === 48;
}

export interface ContinuousLearnerOptions {
  readonly log: EventLog;
  readonly registry: Registry;
  /** Where each publication decision is recorded (optional). */
  readonly runs?: RunStore;
  readonly modelName: string;
  readonly kind: string;
  readonly params?: Readonly<Record<string, unknown>>;
  readonly schema?: FeatureSchema;
  /** Consumer group on the examples topic (default `continuous-learner`). */
  readonly group?: string;
  /** Judge and maybe publish every this many examples. */
  readonly everyExamples: number;
  /** Also judge on this wall-time interval when examples arrived since (0 = off). */
  readonly everyMs?: number;
  /**
   * Progressive-validation window in examples (default: half of everyExamples, so a judgement is of
   * the model as it is now, not as it was at the start of the period — a cold start included).
   */
  readonly window?: number;
  readonly gate?: Partial<GateConfig>;
  /** Fewest clicks in the window before judging (default 10). */
  readonly minPositives?: number;
  /**
   * Event time an example waits, behind the newest example seen, before it is scored and learned
   * (default 0: learn on arrival). Set it to the attribution window to learn in impression order.
   */
  readonly holdMs?: number;
  /** Most examples learned per step (default 1000: about 10 ms of event loop). */
  readonly pollMax?: number;
  readonly pollWaitMs?: number;
  readonly logger?: Logger;
  /** Wall clock for everyMs (tests may inject one). */
  readonly wallNow?: () => number;
}

export interface ContinuousStats {
  readonly examples: number;
  /** Examples waiting for their impression's window to close (holdMs). */
  readonly held: number;
  readonly invalid: number;
  readonly decisions: number;
  readonly published: number;
  readonly errors: number;
  /** Champion version the learner started from (null: from scratch). */
  readonly warmStartedFrom: number | null;
  readonly lastDecision: PublishDecision | null;
}

export class ContinuousLearner {
  private readonly opts: ContinuousLearnerOptions;
  private readonly logger: Logger;
  private readonly gate: GateConfig;
  private readonly wallNow: () => number;
  private readonly learnerWindow: ProgressiveValidator;
  private readonly servedWindow: ProgressiveValidator;
  private readonly stopping = new AbortController();
  private consumer: Consumer | null = null;
  private loop: Promise<void> | null = null;
  private sinceDecision = 0;
  private lastDecisionAt: number;
  private range: { from: number; to: number } | null = null;
  private parentVersion: number | null = null;
  private counters = { examples: 0, invalid: 0, decisions: 0, published: 0, errors: 0 };
  private lastDecision: PublishDecision | null = null;
  private warmStartedFrom: number | null = null;
  /** Polled examples not yet due (holdMs), with their event time, and the newest event time seen. */
  private held: { ts: number; record: LogRecord }[] = [];
  private newestTs = -Infinity;
  /** Per partition of the examples topic, the impression time of the newest negative read: labels up to it are final there. */
  private readonly negativesUpTo = new Map<number, number>();

  private constructor(
    opts: ContinuousLearnerOptions,
    private learner: OnlineLearner,
  ) {
    this.opts = opts;
    this.logger = opts.logger ?? silentLogger;
    this.gate = GateConfig.parse(opts.gate ?? {});
    this.wallNow = opts.wallNow ?? Date.now;
    this.lastDecisionAt = this.wallNow();
    const window = opts.window ?? Math.max(1, Math.ceil(opts.everyExamples / 2));
    this.learnerWindow = new ProgressiveValidator(window);
    this.servedWindow = new ProgressiveValidator(window);
  }

  /** Builds the learner (warm-started from the champion when possible) and subscribes. */
  static async create(opts: ContinuousLearnerOptions): Promise<ContinuousLearner> {
    if (!(Number.isInteger(opts.everyExamples) && opts.everyExamples >= 1)) throw new PctrError('PCTR_VALIDATION', `everyExamples must be an integer ≥ 1, got ${opts.everyExamples}`);
    if (!isLearnerKind(opts.kind)) throw new PctrError('PCTR_VALIDATION', `unknown model kind "${opts.kind}"`);
    const fresh = createLearner(opts.kind, opts.params ?? {}, opts.schema ?? servedFeatureSchema());
    if (!isOnlineLearner(fresh)) throw new PctrError('PCTR_VALIDATION', `${opts.kind} cannot learn online; the continuous learner needs a learner with update()`);
    const self = new ContinuousLearner(opts, fresh);
    await self.warmStart();
    self.consumer = opts.log.subscribe(TOPICS.examples, opts.group ?? 'continuous-learner');
    return self;
  }

  private async warmStart(): Promise<void> {
    let champion;
    try {
      champion = await this.opts.registry.get(this.opts.modelName, '@champion');
    } catch (e) {
      if (isPctrError(e, 'PCTR_UNKNOWN_MODEL') || isPctrError(e, 'PCTR_UNKNOWN_ALIAS')) return;
      throw e;
    }
    if (champion.kind !== this.opts.kind) return;
    try {
      const model = loadModel(await this.opts.registry.loadArtifact(champion));
      if (!isOnlineLearner(model)) return;
      // A champion trained on other features (say a Criteo file) would find none of its fields in the examples.
      if (!sameFields(model.schema, this.learner.schema)) {
        this.logger.warn({ version: champion.version }, 'continuous learner: the champion reads other features than the examples carry; learning from scratch');
        return;
      }
      if ('setCalibration' in model && typeof model.setCalibration === 'function') model.setCalibration(NO_CALIBRATION);
      this.learner = model;
      this.parentVersion = this.warmStartedFrom = champion.version;
      this.logger.info({ version: champion.version }, 'continuous learner: warm start from the champion');
    } catch (e) {
      this.logger.warn({ err: errorMessage(e), version: champion.version }, 'continuous learner: champion unusable for a warm start; learning from scratch');
    }
  }

  /** Runs until `stop()`; errors are logged and counted, never fatal. */
  start(): Promise<void> {
    this.loop ??= (async () => {
      while (!this.stopping.signal.aborted) {
        try {
          await this.step();
        } catch (e) {
          this.counters.errors++;
          this.logger.error({ err: errorMessage(e) }, 'continuous learner: step failed; retrying in 1 s');
          await sleep(1_000, this.stopping.signal).catch(() => undefined);
        }
      }
    })();
    return this.loop;
  }

  /** One poll: score (progressive validation), learn, commit, and judge when due. Returns examples learned. */
  async step(): Promise<number> {
    const consumer = this.consumer!;
    const polled = await consumer.poll(this.opts.pollMax ?? 1_000, this.opts.pollWaitMs ?? 500);
    let learned = 0;
    const due = this.due(polled.records);
    if (due.length > 0) {
      const { batch, served, invalid, minTs, maxTs } = decodeExamples(due, this.learner.schema, (m) => this.logger.debug({ err: m }, 'continuous learner: invalid example skipped'));
      this.counters.invalid += invalid;
      if (batch.n > 0) {
        const scores = new Float32Array(batch.n);
        this.learner.predict(batch, scores);
        this.learnerWindow.observe(scores, batch.labels!, batch.n);
        this.servedWindow.observe(served, batch.labels!, batch.n);
        this.learner.update(batch);
        learned = batch.n;
        this.counters.examples += batch.n;
        this.sinceDecision += batch.n;
        this.range = { from: Math.min(this.range?.from ?? minTs, minTs), to: Math.max(this.range?.to ?? maxTs + 1, maxTs + 1) };
      }
    }
    if (polled.records.length > 0) await consumer.commit(polled);
    const everyMs = this.opts.everyMs ?? 0;
    const judge = this.sinceDecision >= this.opts.everyExamples || (everyMs > 0 && this.sinceDecision > 0 && this.wallNow() - this.lastDecisionAt >= everyMs);
    if (judge) await this.decide();
    return learned;
  }

  /** The polled records, plus those held earlier, whose impression is `holdMs` behind the newest; in event-time order. */
  private due(records: readonly LogRecord[]): LogRecord[] {
    const holdMs = this.opts.holdMs ?? 0;
    if (holdMs <= 0) return records as LogRecord[];
    for (const record of records) {
      // The example's own (impression) time leads its JSON; a record without one is due at once and counted invalid.
      const m = TS_FIELD.exec(record.value);
      const ts = m ? Number(m[1]) : -Infinity;
      if (ts > this.newestTs) this.newestTs = ts;
      if (ts > (this.negativesUpTo.get(record.partition) ?? -Infinity) && isNegative(record.value)) this.negativesUpTo.set(record.partition, ts);
      this.held.push({ ts, record });
    }
    let until = this.newestTs - holdMs;
    // Until a partition's first negative nothing says how far its join got, so it does not hold the others back.
    for (const ts of this.negativesUpTo.values()) until = Math.min(until, ts);
    // Nor does one whose join stopped emitting (no impressions there) hold them back for ever.
    until = Math.max(until, this.newestTs - 2 * holdMs);
    const due = this.held.filter((h) => h.ts <= until).sort((a, b) => a.ts - b.ts);
    if (due.length > 0) this.held = this.held.filter((h) => h.ts > until);
    return due.map((h) => h.record);
  }

  private async decide(): Promise<void> {
    const { calibration, metrics } = this.calibratedWindow();
    const d = await decideAndPublish(
      {
        registry: this.opts.registry,
        runs: this.opts.runs ?? null,
        modelName: this.opts.modelName,
        gate: this.gate,
        codeVersion: codeVersion(),
        logger: this.logger,
        minPositives: this.opts.minPositives ?? 10,
      },
      {
        learner: this.learner,
        calibration,
        learnerWindow: metrics,
        servedWindow: this.servedWindow.windowMetrics(),
        examplesSeen: this.counters.examples,
        range: this.range,
        params: this.opts.params ?? {},
        parentVersion: this.parentVersion,
      },
    );
    this.sinceDecision = 0;
    this.lastDecisionAt = this.wallNow();
    this.counters.decisions++;
    this.lastDecision = d;
    if (d.promoted) {
      this.counters.published++;
      this.parentVersion = d.version;
    }
  }

  /**
   * The Platt calibration of the learner's scores fitted on the progressive window, and the window's
   * metrics with it applied; no calibration (and the raw metrics) while the window has too few
   * clicks or the learner takes none.
   */
  private calibratedWindow(): { calibration: CalibrationSpec | null; metrics: Metrics } {
    const raw = this.learnerWindow.windowMetrics();
    const { scores, labels } = this.learnerWindow.recent();
    if (!('setCalibration' in this.learner) || raw.positives < (this.opts.minPositives ?? 10) || raw.positives === raw.n) return { calibration: null, metrics: raw };
    const calibration: CalibrationSpec = { method: 'platt', downsampleRate: 1, platt: fitPlatt(scores, labels) };
    const calibrated = Float32Array.from(scores);
    new Calibrator(calibration).apply(calibrated, calibrated.length);
    return { calibration, metrics: evaluate(calibrated, labels) };
  }

  stats(): ContinuousStats {
    return { ...this.counters, held: this.held.length, warmStartedFrom: this.warmStartedFrom, lastDecision: this.lastDecision };
  }

  async stop(): Promise<void> {
    this.stopping.abort(new PctrError('PCTR_CONFLICT', 'continuous learner stopped'));
    await this.loop;
    await this.consumer?.close();
  }
}

function sameFields(a: FeatureSchema, b: FeatureSchema): boolean {
  const key = (s: FeatureSchema) => s.fields.map((f) => `${f.name}:${f.kind}`).sort().join(',');
  return key(a) === key(b);
}
