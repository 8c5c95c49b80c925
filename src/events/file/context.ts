/** What the file log's consumers need from the log that opened them. */
import type { Logger } from '../../core/index.ts';
import type { Partition } from './partition.ts';
import type { FsyncPolicy, PartitionWriter } from './partition-writer.ts';

export interface FileLogContext {
  readonly root: string;
  readonly partitions: number;
  readonly fsync: FsyncPolicy;
  readonly logger: Logger;
  partition(topic: string, partition: number): Partition;
  /** The partition's writer, opened (locked, tail recovered) on first use. */
  writer(topic: string, partition: number): PartitionWriter;
  /** Topics that exist on disk. */
  topics(): string[];
  /** Close a partition's writer (releasing its lock) if this instance has one open. */
  closeWriter(topic: string, partition: number): Promise<void>;
  /** Forget a closed consumer. */
  detach(consumer: { close(): Promise<void> }): void;
}
