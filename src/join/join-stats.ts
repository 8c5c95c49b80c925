/**
 * The join's figures for progress lines and monitoring: counters summed over the worker's
 * partitions (cumulative across restarts, since they are checkpointed), what is pending now,
 * watermark lag, and this process's throughput and checkpoint cost.
 */
import type { ClickHold } from './click-hold.ts';
import { COUNTER_NAMES, zeroCounters, type JoinCounters } from './join-state.ts';
import { END_OF_TIME, type PartitionJoin } from './partition-join.ts';

/** What the worker process measured itself (not checkpointed). */
export interface WorkerFigures {
  eventsRead: number;
  checkpoints: number;
  lastCheckpointMs: number;
  /** Bytes of partition state in the last / largest commit. */
  lastStateBytes: number;
  maxStateBytes: number;
  restoreMs: number;
  replayedImpressions: number;
  startedAt: number;
}

export interface JoinStats extends JoinCounters, WorkerFigures {
  /** Impressions whose window is open. */
  pending: number;
  /** Clicks waiting for their impression. */
  waitingClicks: number;
  /** Clicks read but held until the impressions catch up. */
  heldClicks: number;
  /** Lowest partition watermark (event time ms), null before the first. */
  watermark: number | null;
  /** Largest gap between a partition's newest event time and its watermark (ms of event time). */
  watermarkLagMs: number | null;
  /** Events read per wall second since the worker started. */
  eventsPerSec: number;
}

export function collectStats(parts: readonly PartitionJoin[], holds: readonly ClickHold[], figures: WorkerFigures, now: number): JoinStats {
  const counters = zeroCounters();
  let pending = 0;
  let waitingClicks = 0;
  let heldClicks = 0;
  let watermark = Infinity;
  let lag = -Infinity;
  for (const part of parts) {
    for (const name of COUNTER_NAMES) counters[name] += part.counters[name];
    pending += part.pending;
    waitingClicks += part.waitingClicks;
    heldClicks += holds[part.partition]?.size ?? 0;
    watermark = Math.min(watermark, part.watermark);
    const newest = Math.max(part.maxImpressionTs, part.maxClickTs);
    // A drained partition's watermark is the end of time: nothing lags there.
    if (part.watermark > -Infinity && part.watermark < END_OF_TIME && newest > -Infinity) lag = Math.max(lag, newest - part.watermark);
  }
  const elapsed = (now - figures.startedAt) / 1000;
  return {
    ...counters,
    ...figures,
    pending,
    waitingClicks,
    heldClicks,
    watermark: Number.isFinite(watermark) ? watermark : null,
    watermarkLagMs: Number.isFinite(lag) ? lag : null,
    eventsPerSec: elapsed > 0 ? figures.eventsRead / elapsed : 0,
  };
}
