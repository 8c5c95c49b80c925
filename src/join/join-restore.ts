/**
 * Restart: rebuild every partition's join from its last commit. The checkpoint holds the small
 * state; the impressions still held (pending, or remembered for late clicks) are read again from
 * the input log, from the partition's `replayFrom` to the committed offset, and re-inserted without
 * emitting anything, because their outputs were committed with that checkpoint.
 */
import type { Logger } from '../core/index.ts';
import type { TransactionalConsumer } from '../events/index.ts';
import { parsePartitionState } from './join-state.ts';
import { PartitionJoin, textRecord, type JoinWindow } from './partition-join.ts';

export interface Restored {
  /** By partition number. */
  readonly parts: PartitionJoin[];
  /** Committed state blobs, by partition (absent: never committed). */
  readonly blobs: Map<number, string>;
  readonly replayed: number;
}

export async function restorePartitions(
  tx: TransactionalConsumer,
  topics: { readonly impressions: string; readonly clicks: string },
  opts: JoinWindow & { readonly partitions: readonly number[]; readonly validate?: boolean },
  chunk: number,
  log: Logger,
): Promise<Restored> {
  const cp = await tx.restore();
  const impOffsets = cp.offsetsByTopic.get(topics.impressions);
  const clickOffsets = cp.offsetsByTopic.get(topics.clicks);
  const parts: PartitionJoin[] = [];
  const blobs = new Map<number, string>();
  let replayed = 0;
  for (const p of opts.partitions) {
    const blob = cp.state.get(p) ?? null;
    if (blob === null) {
      const part = new PartitionJoin(topics, p, opts, null, opts);
      part.startAt(impOffsets?.get(p) ?? 0, clickOffsets?.get(p) ?? 0);
      parts[p] = part;
      continue;
    }
    const state = parsePartitionState(p, blob);
    const part = new PartitionJoin(topics, p, opts, state, opts);
    let from = state.replayFrom;
    while (from < state.impNext) {
      const recs = await tx.replay(p, from, state.impNext, chunk, topics.impressions);
      if (recs.length === 0) break;
      for (const r of recs) part.replayImpression(textRecord(r.key, r.value, r.offset));
      replayed += recs.length;
      from = recs[recs.length - 1].offset + 1;
    }
    if (from < state.impNext) {
      log.error({ partition: p, from, to: state.impNext }, 'join: impressions to replay are gone from the log (retention?); their labels are lost');
    }
    part.finishReplay();
    parts[p] = part;
    blobs.set(p, blob);
  }
  return { parts, blobs, replayed };
}
