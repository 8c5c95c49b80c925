/**
 * monitoring: the running system's health in numbers. It owns the `Monitor` (reads the impressions,
 * examples and unattributed-clicks topics with its own consumer group and samples the parts running
 * in its process), online evaluation per model version (CTR, mean pCTR, calibration over a sliding
 * event-time window; logloss and AUC over recent joined examples), drift (PSI of every served
 * feature against the champion's training data, and of pCTR), alert rules and state (log line,
 * metric, dashboard banner, HMAC-signed webhook, also used by the registry on alias moves), and the
 * Prometheus metrics of all of it, registered beside the gateway's own.
 */
export { Monitor, type MonitorOptions, type MonitorSources } from './monitor.ts';
export { OnlineEvaluator, figures, type OnlineEvaluatorOptions, type RecentFigures, type VersionSeries, type VersionTotals, type WindowFigures } from './online-evaluator.ts';
export { Drift, parseThresholds, type DriftOptions, type DriftReference, type DriftReport, type DriftStatus, type FeatureDrift } from './drift.ts';
export { BaselineCollector, trainingReference } from './drift-reference.ts';
export { ALERT_RULES, Alerts, BOX_IDS, RULES, type Alert, type AlertCheck, type AlertRule, type AlertsOptions, type BoxId, type Severity } from './alerts.ts';
export { alertChecks, type RuleInputs } from './alert-rules.ts';
export { Webhook, signature, type WebhookEvent, type WebhookEventType, type WebhookOptions, type WebhookOutcome } from './webhook.ts';
export { aliasWebhookHook, webhookFromConfig } from './registry-hook.ts';
export { TimeBuckets } from './time-buckets.ts';
export { JoinTracker, type JoinSeries, type JoinTotals } from './join-tracker.ts';
export { ExampleSample, RecentRequests, type SampledRequest } from './recent.ts';
export { ServingSampler, type SampledCounter } from './serving-sampler.ts';
export { TrafficRecorder, type TrafficRecorderOptions } from './traffic-recorder.ts';
export { readTopicLoop, type TopicReaderOptions } from './topic-reader.ts';
export { EventTimeSampler, ShareSampler } from './records.ts';
export { SystemState, JOIN_GROUP, AGGREGATE_GROUP, type RegistryState } from './system-state.ts';
export { createMonitorMetrics, type MetricsView, type MonitorMetrics } from './metrics.ts';
export { rocCurve, wilson, rateDiffInterval, type RocCurve } from './curves.ts';
