/**
 * Join settings from the validated configuration, the topics it reads and writes, and how workers
 * split partitions.
 */
import { PctrError, TOPICS, type Config } from '../core/index.ts';
import type { JoinWindow } from './partition-join.ts';

export interface JoinTopics {
  readonly impressions: string;
  readonly clicks: string;
  readonly examples: string;
  readonly unattributed: string;
  readonly deadLetters: string;
}

export const JOIN_TOPICS: JoinTopics = {
  impressions: TOPICS.impressions,
  clicks: TOPICS.clicks,
  examples: TOPICS.examples,
  unattributed: TOPICS.unattributedClicks,
  // Its own dead-letter topic: the join's outputs are transactional, and the file log gives each
  // output partition to one transactional producer, while the edges append to `dead-letters` freely.
  deadLetters: `${TOPICS.deadLetters}.join`,
};

/** The attribution window, bound and late-click horizon (default: one more window). */
export function joinWindowFromConfig(config: Config, lateClickHorizonMs?: number): JoinWindow {
  return {
    attributionWindowMs: config.join.attributionWindowMs,
    maxOutOfOrdernessMs: config.join.maxOutOfOrdernessMs,
    lateClickHorizonMs: lateClickHorizonMs ?? config.join.attributionWindowMs,
  };
}

/** Partitions of worker `index` of `count`: every partition p with p % count = index (a static split). */
export function workerPartitions(partitions: number, index: number, count: number): number[] {
  if (!Number.isInteger(count) || count < 1 || !Number.isInteger(index) || index < 0 || index >= count) {
    throw new PctrError('PCTR_VALIDATION', `join worker ${index}/${count} is not valid: need 0 ≤ index < count`);
  }
  if (count > partitions) {
    throw new PctrError('PCTR_VALIDATION', `${count} join workers for ${partitions} partitions: some would have nothing to do (raise PCTR_EVENT_PARTITIONS)`);
  }
  const out: number[] = [];
  for (let p = index; p < partitions; p += count) out.push(p);
  return out;
}

/** Parse `i/N` (worker i of N). */
export function parseWorkerSpec(spec: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(spec.trim());
  if (!m) throw new PctrError('PCTR_VALIDATION', `--worker "${spec}" is not i/N (e.g. 0/4 for the first of four workers)`);
  return { index: Number(m[1]), count: Number(m[2]) };
}

/** Parse `0,2,4` against the partition count. */
export function parsePartitionList(spec: string, partitions: number): number[] {
  const out = new Set<number>();
  for (const part of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const p = Number(part);
    if (!Number.isInteger(p) || p < 0 || p >= partitions) {
      throw new PctrError('PCTR_VALIDATION', `--partitions: "${part}" is not a partition number in 0..${partitions - 1}`);
    }
    out.add(p);
  }
  if (out.size === 0) throw new PctrError('PCTR_VALIDATION', '--partitions names no partition');
  return [...out].sort((a, b) => a - b);
}
