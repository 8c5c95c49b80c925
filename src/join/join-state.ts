/**
 * The checkpointed state of one partition of the join, committed atomically with the input offsets
 * and the outputs it produced. It is small on purpose: pending impressions are not in it (they are in
 * the input log; a restart replays impressions from `replayFrom`), only what replay cannot recover —
 * the watermark, which replayed impressions already have a positive, impressions skipped as
 * duplicates, clicks waiting for their impression, and the counters.
 */
import { z } from 'zod';
import { PctrError, describeIssues } from '../core/index.ts';

/** Counters of one partition, cumulative over restarts (they are part of the checkpoint). */
export interface JoinCounters {
  impressions: number;
  clicks: number;
  positives: number;
  negatives: number;
  /** Clicks after their impression's window closed. */
  lateClicks: number;
  /** Clicks for an impression never seen (or forgotten beyond the late-click horizon). */
  unknownClicks: number;
  /** Further clicks on an impression already labeled positive: counted once. */
  duplicateClicks: number;
  /** Impressions whose id was already pending or recently labeled: ignored. */
  duplicateImpressions: number;
  /** Impressions that arrived after the watermark passed their window end: labeled at once. */
  lateImpressions: number;
  /** Records without a readable integer `ts` or of the wrong type: sent to the dead-letter topic. */
  invalid: number;
}

export const COUNTER_NAMES = [
  'impressions',
  'clicks',
  'positives',
  'negatives',
  'lateClicks',
  'unknownClicks',
  'duplicateClicks',
  'duplicateImpressions',
  'lateImpressions',
  'invalid',
] as const satisfies readonly (keyof JoinCounters)[];

export function zeroCounters(): JoinCounters {
  return {
    impressions: 0,
    clicks: 0,
    positives: 0,
    negatives: 0,
    lateClicks: 0,
    unknownClicks: 0,
    duplicateClicks: 0,
    duplicateImpressions: 0,
    lateImpressions: 0,
    invalid: 0,
  };
}

const Offset = z.number().int().nonnegative();
/** Event times and watermarks; null stands for "none yet" (−∞), which JSON cannot carry. */
const Time = z.number().nullable();
const Count = z.number().int().nonnegative();

export const PartitionState = z.strictObject({
  v: z.literal(1),
  /** Next impression / click offset to process. */
  impNext: Offset,
  clickNext: Offset,
  watermark: Time,
  maxImpressionTs: Time,
  maxClickTs: Time,
  /** Offset of the oldest impression still held: replay starts here. */
  replayFrom: Offset,
  /** Offsets (delta-coded, ascending) of held impressions already labeled positive. */
  positives: z.array(z.number().int()),
  /** Offsets at or after replayFrom of impressions skipped as duplicates. */
  duplicateImpressions: z.array(Offset),
  /** Clicks waiting for their impression: [impressionId, ts]. */
  early: z.array(z.tuple([z.string(), z.number()])),
  counters: z.strictObject(Object.fromEntries(COUNTER_NAMES.map((n) => [n, Count])) as Record<keyof JoinCounters, typeof Count>),
});
export type PartitionState = z.infer<typeof PartitionState>;

export function toTime(t: number): number | null {
  return t === -Infinity ? null : t;
}

export function fromTime(t: number | null): number {
  return t === null ? -Infinity : t;
}

export function deltaEncode(sorted: readonly number[]): number[] {
  const out = new Array<number>(sorted.length);
  let prev = 0;
  for (let i = 0; i < sorted.length; i++) {
    out[i] = sorted[i] - prev;
    prev = sorted[i];
  }
  return out;
}

export function deltaDecode(deltas: readonly number[]): number[] {
  const out = new Array<number>(deltas.length);
  let acc = 0;
  for (let i = 0; i < deltas.length; i++) {
    acc += deltas[i];
    out[i] = acc;
  }
  return out;
}

/** Parse a committed state blob; a blob that does not parse means the checkpoint store is damaged. */
export function parsePartitionState(partition: number, blob: string): PartitionState {
  let raw: unknown;
  try {
    raw = JSON.parse(blob);
  } catch (e) {
    throw new PctrError('PCTR_LOG_CORRUPT', `join checkpoint of partition ${partition} is not JSON: ${(e as Error).message}`, { cause: e });
  }
  const r = PartitionState.safeParse(raw);
  if (!r.success) {
    throw new PctrError('PCTR_LOG_CORRUPT', `join checkpoint of partition ${partition} is invalid: ${describeIssues(r.error)}`, {
      details: { partition },
    });
  }
  return r.data;
}
