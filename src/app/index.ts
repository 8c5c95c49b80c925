/**
 * app: pctr assembled as one program, what `pctr start` runs. It owns the embedded system (every
 * part of the loop in one process on embedded backends, the background parts in worker threads),
 * the batch pipeline's trigger on event time, the simulator's traffic in a thread of its own with
 * an event clock shared by all threads, the live terminal view and the run summary, and `--workers`:
 * gateway processes under node:cluster around a primary that owns the state.
 */
export { EmbeddedSystem, type EmbeddedSystemOptions, type SystemStatus } from './embedded-system.ts';
export { PipelineTrigger, type PipelineTriggerOptions, type PipelineTriggerStats } from './pipeline-trigger.ts';
export { runStart, clientKey, type SimSettings, type StartOptions } from './run-start.ts';
export { runCluster, type ClusterOptions, type ClusterSummary, type WorkerSummary } from './cluster.ts';
export { SimTraffic, type TrafficReport, type TrafficSettings } from './sim-traffic.ts';
export { ClockRef, SharedManualClock, clockOf, simClockSpec, type SimClockSpec } from './sim-clock.ts';
export { TerminalView, renderLine, renderView, type ViewInput } from './terminal-view.ts';
export { buildSummary, summaryText, type RunSummary } from './summary.ts';
export { DEFAULT_LEARNER_PARAMS, SIM_DEFAULTS } from './defaults.ts';
