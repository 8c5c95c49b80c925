/**
 * training: turning labeled examples into champions. It owns pipelines as DAGs of idempotent steps
 * and the batch pipeline itself (extract from the offline store → validate → train in a worker
 * thread → evaluate against the champion on the latest slice → register with lineage → promote
 * through the AUC/logloss gate), the run store that keeps every run's steps, durations, outputs,
 * errors and gate decision (`sqlite` embedded, `postgres` distributed), two runners for the same DAG
 * (`embedded` in-process; `bullmq` flows run by `pctr worker` processes, with retries, backoff and
 * stalled-job takeover), cron schedules, backfill, and the continuous learner (online FTRL on the
 * examples topic with progressive validation, publishing through the same gate).
 * `TrainingService.open(config)` wires it all from the config.
 */
export { defineDag, isRetryable } from './dag.ts';
export type { Dag, RunTrigger, StepContext, StepDef } from './dag.ts';
export { GateConfig, baseRateReference, decideGate } from './gate.ts';
export type { GateDecision, GateReference, ScoredModel } from './gate.ts';
export { createRunStore, parseRunStoreUrl } from './run-store/index.ts';
export type * from './run-store/index.ts';
export { createRun, newRunId, runStep, toErrorRecord, fromErrorRecord } from './runners/run-step.ts';
export type { RunSpec, StepOutcome } from './runners/run-step.ts';
export { DEFAULT_RETRY, checkCron, isFinished, tickRunSpec, waitForRun } from './runners/runner.ts';
export type { PipelineRunner, RetryPolicy, ScheduleSpec } from './runners/runner.ts';
export { EmbeddedRunner, type EmbeddedRunnerOptions } from './runners/embedded.ts';
export { BullmqRunner, type BullmqRunnerOptions } from './runners/bullmq-runner.ts';
export { TrainingWorker, type TrainingWorkerOptions } from './runners/bullmq-worker.ts';
export { QUEUE_NAME, jobIdOf, type BullmqSettings } from './runners/bullmq-queues.ts';
export { BATCH_PIPELINE, batchPipeline } from './pipeline/batch-pipeline.ts';
export { BatchParams, type BatchParamsInput } from './pipeline/params.ts';
export { FILES, runDir, type BatchPipelineDeps } from './pipeline/deps.ts';
export { ValidationConfig, PSI_WARNING, type Check, type ValidationReport } from './pipeline/validation.ts';
export { StatsAccumulator, psi, type FieldStats } from './pipeline/feature-stats.ts';
export type { MetricsSummary } from './pipeline/metrics-summary.ts';
export type { ExtractOutput, PartSummary } from './pipeline/steps/extract.step.ts';
export type { ValidateOutput } from './pipeline/steps/validate.step.ts';
export type { TrainOutput } from './pipeline/steps/train.step.ts';
export type { EvaluateOutput } from './pipeline/steps/evaluate.step.ts';
export type { RegisterOutput } from './pipeline/steps/register.step.ts';
export type { PromoteOutput } from './pipeline/steps/promote.step.ts';
export { ContinuousLearner, type ContinuousLearnerOptions, type ContinuousStats } from './continuous/continuous-learner.ts';
export { CONTINUOUS_PIPELINE, type PublishDecision } from './continuous/publish.ts';
export { TrainingService, backfillSlices, lagMs, runStoreUrl, type TimeRange, type TrainingDeps } from './training-service.ts';
