/**
 * Replay of a real CTR data set (Criteo DAC TSV, Avazu CSV) as an impression/click stream, so the
 * join, the aggregates and the offline store can run on real rows. Each row becomes an impression
 * whose features as served are the row's raw values; a clicked row also gets a click after a
 * seeded, log-normally distributed delay. Event times: Avazu rows start at their `hour` and are
 * spaced by `1 / ratePerSec` inside it; Criteo rows (no timestamp, but in time order) are spaced by
 * `1 / ratePerSec` from `startTs`. Output batches are in event-time order, clicks after their
 * impressions, like the simulator's.
 */
import { Click, Impression } from '../core/index.ts';
import { RecordReader, type DatasetRecord } from '../datasets/index.ts';
import type { AppendRecord } from '../events/index.ts';
import { ClickQueue } from './click-queue.ts';
import type { EventBatch } from './event-generator.ts';
import { DEFAULT_START_TS } from './generator-options.ts';
import { Rng } from './rng.ts';

export interface ReplayOptions {
  readonly kind: 'criteo' | 'avazu';
  readonly path: string;
  /** Impressions per second of event time (default 100). */
  readonly ratePerSec?: number;
  /** Event time of the first Criteo row (default the simulator's start). */
  readonly startTs?: number;
  /** Median delay from impression to click (default 30 s); delays are log-normal with σ = 1. */
  readonly clickDelayMs?: number;
  /** pCTR recorded on every impression: replayed traffic was not served by a pctr model. */
  readonly pctr?: number;
  readonly idPrefix?: string;
  readonly limit?: number;
  readonly seed?: number;
  readonly batchSize?: number;
}

export interface ReplayStats {
  rows: number;
  malformed: number;
  impressions: number;
  clicks: number;
  firstErrors: { line: number; message: string }[];
  firstTs: number;
  lastTs: number;
}

/** Avazu's placeholder device id for "unknown device"; such rows are keyed by device IP instead. */
const AVAZU_UNKNOWN_DEVICE = 'a99f214a';

function identity(kind: ReplayOptions['kind'], r: DatasetRecord): { userId: string; adId: string; campaignId: string; position: number } {
  if (kind === 'avazu') {
    const device = String(r.fields.device_id ?? AVAZU_UNKNOWN_DEVICE);
    return {
      userId: device === AVAZU_UNKNOWN_DEVICE ? `ip-${String(r.fields.device_ip ?? 'unknown')}` : `dev-${device}`,
      adId: `c14-${String(r.fields.C14 ?? 'unknown')}`,
      campaignId: `c17-${String(r.fields.C17 ?? 'unknown')}`,
      position: Math.min(10_000, Math.max(0, Number(r.fields.banner_pos ?? 0) || 0)),
    };
  }
  // Criteo rows carry no user or ad identity; all 39 fields travel as features.
  return { userId: 'criteo-unknown', adId: 'criteo-unknown', campaignId: 'criteo-unknown', position: 0 };
}

/** Replays `opts.path`; the generator's return value is the final statistics. */
export async function* replayEvents(opts: ReplayOptions, reader = new RecordReader(opts.kind, opts.path, { limit: opts.limit, batchSize: opts.batchSize })): AsyncGenerator<EventBatch<AppendRecord, AppendRecord>, ReplayStats> {
  const spacing = 1000 / (opts.ratePerSec ?? 100);
  const medianDelay = opts.clickDelayMs ?? 30_000;
  const pctr = opts.pctr ?? 0.1;
  const prefix = opts.idPrefix ?? `${opts.kind}-`;
  const rng = new Rng(opts.seed ?? 1);
  const clicks = new ClickQueue();
  const clickIds = new Map<number, string>();
  const stats: ReplayStats = { rows: 0, malformed: 0, impressions: 0, clicks: 0, firstErrors: [], firstTs: NaN, lastTs: NaN };
  let lastTs = -Infinity;
  let hourTs = -Infinity;

  const clickRecord = (ts: number, ref: number): AppendRecord => {
    const impressionId = clickIds.get(ref)!;
    clickIds.delete(ref);
    stats.clicks++;
    const click: Click = { type: 'click', impressionId, ts };
    return { key: impressionId, value: JSON.stringify(click) };
  };

  for await (const rows of reader) {
    const impressions: AppendRecord[] = [];
    for (const r of rows) {
      let ts: number;
      if (r.ts === null) {
        ts = (opts.startTs ?? DEFAULT_START_TS) + Math.round(stats.impressions * spacing);
      } else {
        if (r.ts !== hourTs) hourTs = r.ts;
        ts = Math.max(hourTs, Math.round(lastTs + spacing));
      }
      lastTs = ts;
      const impressionId = `${prefix}${r.id ?? r.index}`;
      const imp: Impression = {
        type: 'impression',
        impressionId,
        requestId: impressionId,
        ts,
        ...identity(opts.kind, r),
        bid: 1,
        pCTR: pctr,
        modelVersion: 'replay@0',
        features: r.fields,
      };
      impressions.push({ key: impressionId, value: JSON.stringify(imp) });
      if (stats.impressions === 0) stats.firstTs = ts;
      stats.impressions++;
      if (r.label === 1) {
        const delay = Math.max(1, Math.round(medianDelay * Math.exp(rng.normal())));
        clickIds.set(r.index, impressionId);
        clicks.push(ts + delay, r.index);
      }
    }
    const due: AppendRecord[] = [];
    while (clicks.size > 0 && clicks.peekTs() <= lastTs) {
      clicks.pop();
      due.push(clickRecord(clicks.poppedTs, clicks.poppedRef));
    }
    yield { impressions, clicks: due };
  }
  const rest: AppendRecord[] = [];
  while (clicks.size > 0) {
    clicks.pop();
    rest.push(clickRecord(clicks.poppedTs, clicks.poppedRef));
  }
  if (rest.length > 0) yield { impressions: [], clicks: rest };
  stats.rows = reader.report.rows;
  stats.malformed = reader.report.malformed;
  stats.firstErrors = reader.report.firstErrors;
  stats.lastTs = lastTs;
  return stats;
}

/** Validates a replayed impression or click against the core schemas (for tests and --validate). */
export function checkReplayRecord(r: AppendRecord): void {
  const v = JSON.parse(r.value) as { type: string };
  (v.type === 'click' ? Click : Impression).parse(v);
}
