/**
 * The EventLog contract: an append-only, partitioned, replayable log with consumer groups (Kafka's
 * model), implemented by the embedded `file` backend and by Redis Streams.
 *
 * Promises:
 * - Records are opaque strings (JSON text of a core schema); the log never parses them.
 * - A record goes to partition `partitionOf(key, partitions)`; within a partition, order of appends
 *   is kept and offsets increase (not necessarily by 1). An impression and its clicks share a key
 *   (impressionId) and so a partition.
 * - `append` resolves once the records are durable by the backend's policy (file: fsync policy;
 *   redis: acknowledged by the server). An acknowledged append survives a crash of the appender.
 * - Delivery to consumers is at-least-once: records after the last committed offset are delivered
 *   again after a restart. Exactly-once processing comes from `TransactionalConsumer`, which commits
 *   offsets atomically with the records it produced and its state.
 * - Consumers only see committed output of transactional producers ("read committed").
 * - Topic, group and transactional ids are names of letters, digits, `.`, `-`, `_` (not starting with `.`).
 *
 * Leaves out: cross-partition ordering, dynamic partition rebalancing (workers are assigned
 * partitions explicitly), compaction.
 */

export interface AppendRecord {
  /** Partitioning key (impressionId for impressions, clicks and examples). */
  readonly key: string;
  /** Payload, usually JSON text. */
  readonly value: string;
}

/**
 * Records whose values are UTF-8 bytes already (build them with `RecordBuffer`): a producer that
 * assembles values from bytes (the join's labeled examples) hands them over without a string per
 * record, and the backend copies bytes instead of encoding text a second time. Accepted as the
 * records of a transactional commit's outputs.
 */
export interface EncodedRecords {
  readonly length: number;
  key(i: number): string;
  /** The buffer holding value i, which is `bytes(i)[start(i), end(i))`. */
  bytes(i: number): Buffer;
  start(i: number): number;
  end(i: number): number;
}

/**
 * Records that write their own values, for outputs assembled from pieces (the join's examples: the
 * impression's bytes with a new head and the label appended). The backend gives record i room for
 * `maxValueBytes(i)` bytes in its own write buffer and the record writes its UTF-8 value there, so
 * the value is copied once, where it is framed, and never held as a whole elsewhere. Accepted as the
 * records of a transactional commit's outputs; read during the commit only.
 */
export interface ValueWriters {
  readonly length: number;
  key(i: number): string;
  /** Most bytes value i can take. */
  maxValueBytes(i: number): number;
  /** Write value i's bytes at `pos` (with `maxValueBytes(i)` of room); returns the position after it. */
  writeValue(i: number, buf: Buffer, pos: number): number;
}

/**
 * Input records as bytes (`TransactionalConsumer.pollEncoded`): a Batch whose values stay undecoded in
 * buffers the batch owns, which the consumer may keep (a join holding pending impressions keeps
 * their bytes, not a string each). Keys are decoded.
 */
export interface EncodedBatch extends EncodedRecords {
  /** Which of the consumer's input topics record i came from (index into the topics it was opened with). */
  topicIndex(i: number): number;
  partition(i: number): number;
  offset(i: number): number;
  /** As `Batch.nextOffsets` and `Batch.nextOffsetsByTopic`. */
  readonly nextOffsets: ReadonlyMap<number, number>;
  readonly nextOffsetsByTopic: ReadonlyMap<string, ReadonlyMap<number, number>>;
}

export interface LogRecord {
  readonly topic: string;
  readonly partition: number;
  /** Position in the partition; increasing, backend-assigned. Safe integer. */
  readonly offset: number;
  readonly key: string;
  readonly value: string;
}

export interface Batch {
  readonly records: readonly LogRecord[];
  /**
   * Per partition, the offset to resume from once this batch is committed (last offset + 1), for the
   * consumer's first (usually only) topic; only partitions with records in this batch are present.
   */
  readonly nextOffsets: ReadonlyMap<number, number>;
  /** The same for every input topic (a transactional consumer may read several, e.g. impressions and clicks). */
  readonly nextOffsetsByTopic: ReadonlyMap<string, ReadonlyMap<number, number>>;
}

export interface SubscribeOptions {
  /** Partitions to read (default: all). Workers of one group split partitions between them. */
  readonly partitions?: readonly number[];
  /** Where a group with no committed offset starts (default `earliest`). */
  readonly from?: 'earliest' | 'latest';
}

export interface Consumer {
  readonly partitions: readonly number[];
  /** Up to `max` records across the consumer's partitions; waits up to `waitMs` when none are there. */
  poll(max: number, waitMs: number): Promise<Batch>;
  /** Durably record that this batch (and everything before it) was processed. */
  commit(batch: Batch): Promise<void>;
  close(): Promise<void>;
}

/** What a transactional consumer restores after a restart: its last committed state and offsets. */
export interface Checkpoint {
  /** Opaque state blob committed with the offsets, per partition; null when never committed. */
  readonly state: ReadonlyMap<number, string | null>;
  /** Next input offset per partition (where the committed work ends), of the first input topic. */
  readonly offsets: ReadonlyMap<number, number>;
  /** The same for every input topic. */
  readonly offsetsByTopic: ReadonlyMap<string, ReadonlyMap<number, number>>;
}

export interface TransactionalCommit {
  /** Input consumed: offsets to resume from (per partition, as `Batch.nextOffsets`) of the first input topic. */
  readonly offsets: ReadonlyMap<number, number>;
  /** Input consumed per input topic (as `Batch.nextOffsetsByTopic`); overrides `offsets` for the topics it names. */
  readonly offsetsByTopic?: ReadonlyMap<string, ReadonlyMap<number, number>>;
  /** Records produced by processing that input, per output topic (as text or as encoded bytes). */
  readonly outputs: readonly { readonly topic: string; readonly records: readonly AppendRecord[] | EncodedRecords | ValueWriters }[];
  /** New state per partition (only partitions whose state changed need be present). */
  readonly state: ReadonlyMap<number, string>;
}

/**
 * Exactly-once processing (Kafka transactions / Flink checkpoints): outputs, state and input
 * offsets become visible together or not at all. After a crash, `restore` returns the last commit
 * and `poll` resumes from its offsets; uncommitted outputs are never seen by read-committed readers.
 *
 * Atomicity is per partition: partition p's input offsets, its state and the outputs written to
 * partition p of the output topics become visible together (the file backend commits one partition
 * at a time; redis commits every partition in one MULTI/EXEC). Outputs are partitioned by key like
 * any append and must land in partitions the consumer owns (the join keyed by impressionId writes
 * output partition p from input partition p); others are rejected with PCTR_VALIDATION.
 *
 * One transactional consumer owns its partitions: its id must be unique among live instances. A
 * second live instance is refused by the file backend; on redis it fences the first, whose next
 * commit fails. Both raise PCTR_CONFLICT.
 */
export interface TransactionalConsumer {
  readonly partitions: readonly number[];
  restore(): Promise<Checkpoint>;
  poll(max: number, waitMs: number): Promise<Batch>;
  /** `poll` with the records as bytes: no string per value, for consumers that read values as bytes. */
  pollEncoded(max: number, waitMs: number): Promise<EncodedBatch>;
  /**
   * Re-read committed input of one partition from `fromOffset` (inclusive) to `toOffset` (exclusive), to
   * rebuild state; at most `max` records, so call again from the last offset + 1 until it returns none.
   * `topic` picks one of several input topics (default: the first).
   */
  replay(partition: number, fromOffset: number, toOffset: number, max: number, topic?: string): Promise<LogRecord[]>;
  commit(tx: TransactionalCommit): Promise<void>;
  close(): Promise<void>;
}

export interface AppendAck {
  /** Offset assigned to each record, in input order. */
  readonly offsets: readonly { readonly partition: number; readonly offset: number }[];
}

export interface EventLog {
  readonly partitions: number;
  append(topic: string, records: readonly AppendRecord[]): Promise<AppendAck>;
  subscribe(topic: string, group: string, opts?: SubscribeOptions): Consumer;
  /**
   * A consumer of `topic` whose commits are atomic with its outputs and state (see TransactionalConsumer).
   * `id` names the transactional producer (e.g. `join`); the same id after a restart resumes its work.
   */
  transactional(topic: string | readonly string[], id: string, opts: { partitions: readonly number[] }): TransactionalConsumer;
  /** End offset (next offset to be written) of every partition of a topic. */
  endOffsets(topic: string): Promise<number[]>;
  /** Committed offsets of a group per partition (for lag), -1 when none. */
  committedOffsets(topic: string, group: string): Promise<number[]>;
  close(): Promise<void>;
}
