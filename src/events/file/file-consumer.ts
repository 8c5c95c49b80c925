/**
 * A consumer-group member of the file log: starts each partition at the group's committed offset
 * (or earliest/latest when none), reads with at-least-once delivery, and commits by replacing its
 * offsets file atomically.
 */
import type { Batch, Consumer } from '../event-log.ts';
import type { FileLogContext } from './context.ts';
import { PartitionCursor } from './cursor.ts';
import { CursorSet } from './cursor-set.ts';
import { readGroupOffsets, writeGroupOffsets } from './offset-files.ts';

export class FileConsumer implements Consumer {
  private readonly set: CursorSet;
  private readonly committed: Map<number, number>;
  private commitChain: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly ctx: FileLogContext,
    private readonly topic: string,
    private readonly group: string,
    readonly partitions: readonly number[],
    from: 'earliest' | 'latest',
  ) {
    this.committed = readGroupOffsets(ctx.root, group, topic);
    const cursors = partitions.map((p) => new PartitionCursor(ctx.partition(topic, p), ctx.logger));
    this.set = new CursorSet(cursors, topic);
    for (const c of cursors) {
      const at = this.committed.get(c.part.partition);
      if (at !== undefined) c.seek(at, this.set.win);
      else if (from === 'latest') c.seekEnd(this.set.win);
      else c.seekEarliest(this.set.win);
    }
  }

  poll(max: number, waitMs: number): Promise<Batch> {
    return this.set.poll(max, waitMs);
  }

  commit(batch: Batch): Promise<void> {
    let changed = false;
    for (const [p, off] of batch.nextOffsets) {
      if (!this.partitions.includes(p)) continue;
      if ((this.committed.get(p) ?? -1) < off) {
        this.committed.set(p, off);
        changed = true;
      }
    }
    if (!changed) return this.commitChain;
    const snapshot = new Map(this.committed);
    this.commitChain = this.commitChain.catch(() => undefined).then(() => writeGroupOffsets(this.ctx.root, this.group, this.topic, this.partitions, snapshot, this.ctx.fsync !== 'never'));
    return this.commitChain;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.set.close();
    for (const c of this.set.cursors) c.close();
    this.ctx.detach(this);
    await this.commitChain.catch(() => undefined);
  }
}
