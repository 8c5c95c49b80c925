/**
 * The continuous learner's publication decision: on the recent progressive-validation window, the
 * learner's predictions (made before it learned each example) against the served pCTRs of the same
 * examples (the champion's) — or against the base rate when there is no champion — through the same
 * gate as the batch pipeline. A passing snapshot is registered and made champion (compare-and-set).
 * Every decision is recorded as a one-step run (`continuous` pipeline) in the run store.
 */
import { errorMessage, isPctrError, type Logger } from '../../core/index.ts';
import { encodeArtifact, entropy, type Artifact, type CalibrationSpec, type Metrics, type OnlineLearner } from '../../models/index.ts';
import type { ModelVersion, Registry } from '../../registry/index.ts';
import { decideGate, type GateConfig, type GateReference } from '../gate.ts';
import { summarize, type MetricsSummary } from '../pipeline/metrics-summary.ts';
import type { GateRecord, RunStore } from '../run-store/run-store.ts';
import { newRunId } from '../runners/run-step.ts';

export const CONTINUOUS_PIPELINE = 'continuous';

export interface PublishContext {
  readonly registry: Registry;
  readonly runs: RunStore | null;
  readonly modelName: string;
  readonly gate: GateConfig;
  readonly codeVersion: string;
  readonly logger: Logger;
  /** Fewest clicks in the window before the learner is judged at all. */
  readonly minPositives: number;
}

export interface PublishInput {
  readonly learner: OnlineLearner;
  /** Post-hoc calibration the published snapshot carries (fitted on the window), or null for none. */
  readonly calibration?: CalibrationSpec | null;
  readonly learnerWindow: Metrics;
  readonly servedWindow: Metrics;
  readonly examplesSeen: number;
  readonly range: { readonly from: number; readonly to: number } | null;
  readonly params: Readonly<Record<string, unknown>>;
  readonly parentVersion: number | null;
}

export interface PublishDecision extends GateRecord {
  readonly runId: string;
  readonly learner: MetricsSummary;
  readonly served: MetricsSummary;
}

async function champion(registry: Registry, name: string): Promise<ModelVersion | null> {
  try {
    return await registry.get(name, '@champion');
  } catch (e) {
    if (isPctrError(e, 'PCTR_UNKNOWN_MODEL') || isPctrError(e, 'PCTR_UNKNOWN_ALIAS')) return null;
    throw e;
  }
}

export async function decideAndPublish(ctx: PublishContext, input: PublishInput): Promise<PublishDecision> {
  const runId = newRunId('continuous');
  const learner = summarize(input.learnerWindow);
  const served = summarize(input.servedWindow);
  const current = await champion(ctx.registry, ctx.modelName);
  const base = { runId, learner, served, championVersion: current?.version ?? null };
  let gate: GateRecord;
  if (input.learnerWindow.positives < ctx.minPositives || !Number.isFinite(input.learnerWindow.auc)) {
    gate = { promoted: false, version: null, championVersion: base.championVersion, reason: `not judged: ${input.learnerWindow.positives} clicks in the window of ${input.learnerWindow.n} (at least ${ctx.minPositives} needed)` };
  } else {
    const rate = input.learnerWindow.observedRate;
    const reference: GateReference = current
      ? { kind: 'champion', label: `the served champion (v${current.version})`, version: current.version, auc: input.servedWindow.auc, logloss: input.servedWindow.logloss }
      : { kind: 'baseline', label: `the base rate ${rate.toFixed(4)}`, version: null, auc: 0.5, logloss: entropy(rate) };
    const decision = decideGate({ auc: learner.auc, logloss: learner.logloss }, reference, ctx.gate);
    gate = decision.promote ? await register(ctx, input, runId, decision.reason, current) : { promoted: false, version: null, championVersion: base.championVersion, reason: decision.reason };
  }
  const out: PublishDecision = { ...base, ...gate };
  await record(ctx, out, input.range);
  ctx.logger.info({ runId, promoted: out.promoted, version: out.version, auc: learner.auc, servedAuc: served.auc }, `continuous learner: ${out.reason}`);
  return out;
}

async function register(ctx: PublishContext, input: PublishInput, runId: string, reason: string, current: ModelVersion | null): Promise<GateRecord> {
  const w = input.learnerWindow;
  const metrics: Record<string, number> = {};
  for (const [k, v] of Object.entries({ auc: w.auc, logloss: w.logloss, ne: w.ne, calibration: w.calibration, window_rows: w.n, served_auc: input.servedWindow.auc, served_logloss: input.servedWindow.logloss })) {
    if (Number.isFinite(v)) metrics[k] = v;
  }
  const v = await ctx.registry.register(ctx.modelName, encodeArtifact(snapshot(input.learner, input.calibration ?? null)), {
    kind: input.learner.kind,
    params: { ...input.params, continuous: true },
    metrics,
    ...(input.range ? { dataRange: { ...input.range, rows: input.examplesSeen } } : {}),
    ...(input.parentVersion !== null ? { parentVersion: input.parentVersion } : {}),
    codeVersion: ctx.codeVersion,
    runId,
    description: `continuous learner, progressive validation: ${reason}`,
    idempotencyKey: `${runId}.register`,
  });
  try {
    await ctx.registry.setAlias(ctx.modelName, 'champion', v.version, { reason: `continuous learner run ${runId}: ${reason}`, expectedVersion: current?.version ?? null });
    return { promoted: true, version: v.version, championVersion: current?.version ?? null, reason };
  } catch (e) {
    if (!isPctrError(e, 'PCTR_CONFLICT')) throw e;
    return { promoted: false, version: v.version, championVersion: current?.version ?? null, reason: `the champion moved during publication (${errorMessage(e)}); registered v${v.version} without promoting it` };
  }
}

interface Calibratable {
  readonly calibration: CalibrationSpec;
  setCalibration(spec: CalibrationSpec): void;
}

const calibratable = (m: object): m is Calibratable => 'setCalibration' in m && 'calibration' in m;

/** The learner's artifact with `calibration` in it; the learner keeps its own (it scores uncalibrated). */
function snapshot(learner: OnlineLearner, calibration: CalibrationSpec | null): Artifact {
  if (calibration === null || !calibratable(learner)) return learner.toArtifact();
  const own = learner.calibration;
  learner.setCalibration(calibration);
  try {
    return learner.toArtifact();
  } finally {
    learner.setCalibration(own);
  }
}

async function record(ctx: PublishContext, d: PublishDecision, range: { from: number; to: number } | null): Promise<void> {
  if (!ctx.runs) return;
  try {
    await ctx.runs.createRun({ id: d.runId, pipeline: CONTINUOUS_PIPELINE, trigger: 'continuous', range, params: { modelName: ctx.modelName, gate: ctx.gate }, steps: ['publish'] });
    await ctx.runs.startStep(d.runId, 'publish');
    await ctx.runs.completeStep(d.runId, 'publish', d, 0);
    await ctx.runs.recordGate(d.runId, { promoted: d.promoted, reason: d.reason, version: d.version, championVersion: d.championVersion });
    await ctx.runs.finishRun(d.runId, { status: 'succeeded' });
  } catch (e) {
    // The decision stands (and is logged); losing its history row must not stop learning.
    ctx.logger.warn({ err: errorMessage(e), runId: d.runId }, 'continuous learner: could not record the decision in the run store');
  }
}
