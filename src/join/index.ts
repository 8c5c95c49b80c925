/**
 * join: the streaming impression/click join (label backfill). It turns the `impressions` and
 * `clicks` topics into labeled examples on `examples` — a positive as soon as a click arrives within
 * the attribution window, a negative when the event-time watermark passes the window's end — and
 * sends late and unknown clicks to `unattributed-clicks`, unreadable records to `dead-letters.join`. Its
 * state (watermark, positives, waiting clicks, counters) commits atomically with the input offsets
 * and the outputs, so a crashed worker resumes and emits every label exactly once; workers split
 * the partitions statically. The per-partition state machine (`PartitionJoin`) is pure and
 * synchronous; `JoinWorker` drives it from an EventLog.
 */
export { JoinWorker, type JoinWorkerOptions, type RunOptions, type CommitReport } from './join-worker.ts';
export { PartitionJoin, JoinOutput, END_OF_TIME, type JoinWindow, type JoinRecord } from './partition-join.ts';
export { ExampleRecords } from './example-records.ts';
export { COUNTER_NAMES, type JoinCounters, type PartitionState } from './join-state.ts';
export type { JoinStats } from './join-stats.ts';
export { readTs, exampleText, writeExample, type UnattributedClick, type UnattributedReason } from './record-text.ts';
export { JOIN_TOPICS, joinWindowFromConfig, workerPartitions, parseWorkerSpec, parsePartitionList, type JoinTopics } from './options.ts';
