/**
 * The aggregation state machine (no I/O): impressions and attributed clicks in, windowed counts
 * per user, ad, campaign and user×category out, as online-store rows for the entities that changed.
 *
 * Event time only: windows move with the largest event time seen (impression ts, click ts), never
 * with the wall clock, so a replay or a simulated clock gives the same counts. A click is counted in
 * the bucket of its impression's time, so `clicks ≤ impressions` in every bucket and the CTR is the
 * CTR of the impressions in the window.
 */
import {
  DEFAULT_CTR_PRIOR,
  ENTITY_TYPES,
  WINDOWS,
  entityLayout,
  fillAggregateVector,
  userCategoryKey,
  type CtrPrior,
  type EntityType,
  type WindowSpec,
} from '../definitions.ts';
import type { EntityRef, FeatureRow } from '../online-store/online-store.ts';
import { DIRTY_ONLINE, DIRTY_SNAPSHOT, WindowedCounts, type WindowedCountsState } from './windowed-counts.ts';

export interface AggregatorOptions {
  readonly windows?: readonly WindowSpec[];
  readonly prior?: CtrPrior;
  /** Track entities changed since the last `snapshotRows()` (for point-in-time snapshots in the offline store). */
  readonly snapshots?: boolean;
}

/** Changed entities of one type at one event time, columnar: `values` holds `names.length` per key. */
export interface EntitySnapshot {
  readonly entity: EntityType;
  readonly ts: number;
  readonly names: readonly string[];
  readonly keys: string[];
  readonly values: Float64Array;
}

export interface AggregatorStats {
  impressions: number;
  clicks: number;
  /** Records that were not an impression / labeled example with the fields needed (skipped). */
  invalid: number;
}

/** The fields of an impression or labeled example the aggregates use. */
export interface ParsedEvent {
  readonly what: 'impression' | 'click' | 'negative';
  readonly userId: string;
  readonly adId: string;
  readonly campaignId: string;
  readonly category: string | undefined;
  /** Event time of the impression. */
  readonly ts: number;
  /** Event time of the click (of a positive example), else `ts`. */
  readonly clickTs: number;
}

export interface AggregatorState {
  readonly eventTime: number;
  readonly stats: AggregatorStats;
  readonly counters: Record<string, WindowedCountsState>;
}

interface EventFields {
  type?: unknown;
  userId?: unknown;
  adId?: unknown;
  campaignId?: unknown;
  ts?: unknown;
  label?: unknown;
  clickTs?: unknown;
  features?: { ad_category?: unknown } | null;
}

export class Aggregator {
  readonly windows: readonly WindowSpec[];
  readonly prior: CtrPrior;
  readonly counters: Readonly<Record<EntityType, WindowedCounts>>;
  readonly stats: AggregatorStats = { impressions: 0, clicks: 0, invalid: 0 };
  /** Largest event time seen (epoch ms); -Infinity before the first event. */
  eventTime = -Infinity;
  private readonly layouts: Record<EntityType, string[]>;
  private readonly scratch: Float64Array;

  constructor(opts: AggregatorOptions = {}) {
    this.windows = opts.windows ?? WINDOWS;
    this.prior = opts.prior ?? DEFAULT_CTR_PRIOR;
    const make = () => new WindowedCounts(this.windows, { trackSnapshots: opts.snapshots ?? false });
    this.counters = { user: make(), ad: make(), campaign: make(), user_category: make() };
    this.layouts = Object.fromEntries(ENTITY_TYPES.map((e) => [e, entityLayout(e, this.windows)])) as Record<EntityType, string[]>;
    this.scratch = new Float64Array(3 * this.windows.length);
  }

  impression(userId: string, adId: string, campaignId: string, category: string | undefined, ts: number): void {
    this.count(userId, adId, campaignId, category, ts, ts, 1, 0);
    this.stats.impressions++;
  }

  /** A click attributed to an impression served at `impressionTs`, arriving at `clickTs`. */
  click(userId: string, adId: string, campaignId: string, category: string | undefined, impressionTs: number, clickTs: number): void {
    this.count(userId, adId, campaignId, category, impressionTs, Math.max(clickTs, impressionTs), 0, 1);
    this.stats.clicks++;
  }

  /**
   * Parse one record of the `impressions` or `examples` topic (JSON text); null when it lacks what
   * is needed (counted in `stats.invalid`).
   */
  parse(kind: 'impression' | 'example', text: string): ParsedEvent | null {
    if (kind === 'example') {
      const negative = quickNegative(text);
      if (negative !== null) return negative;
    }
    let e: EventFields;
    try {
      e = JSON.parse(text) as EventFields;
    } catch {
      return this.reject();
    }
    if (typeof e !== 'object' || e === null || e.type !== kind) return this.reject();
    const { userId, adId, campaignId, ts } = e;
    if (typeof userId !== 'string' || typeof adId !== 'string' || typeof campaignId !== 'string' || typeof ts !== 'number' || !(ts >= 0)) return this.reject();
    if (kind === 'example' && e.label !== 0 && e.label !== 1) return this.reject();
    const cat = e.features?.ad_category;
    const category = typeof cat === 'string' ? cat : typeof cat === 'number' ? String(cat) : undefined;
    const clicked = kind === 'example' && e.label === 1;
    const clickTs = clicked && typeof e.clickTs === 'number' ? e.clickTs : ts;
    return { what: kind === 'impression' ? 'impression' : clicked ? 'click' : 'negative', userId, adId, campaignId, category, ts, clickTs };
  }

  /**
   * Count a parsed event. Examples count only when positive: the join emits each positive once, as
   * soon as its click arrives.
   */
  apply(e: ParsedEvent): void {
    if (e.what === 'impression') this.impression(e.userId, e.adId, e.campaignId, e.category, e.ts);
    else if (e.what === 'click') this.click(e.userId, e.adId, e.campaignId, e.category, e.ts, e.clickTs);
  }

  /** `parse` then `apply`; false when the record was invalid. */
  applyRecord(kind: 'impression' | 'example', text: string): boolean {
    const e = this.parse(kind, text);
    if (e !== null) this.apply(e);
    return e !== null;
  }

  /** Rows for every entity whose counts changed since the last call, to put into the online store. */
  flushRows(): FeatureRow[] {
    const rows: FeatureRow[] = [];
    const ts = this.eventTime;
    for (const entity of ENTITY_TYPES) {
      const names = this.layouts[entity];
      this.counters[entity].drain(DIRTY_ONLINE, (key, sums, offset) => {
        fillAggregateVector(sums, offset, this.prior, this.scratch, 0, this.windows.length);
        const values: Record<string, number> = {};
        for (let i = 0; i < names.length; i++) values[names[i]] = this.scratch[i];
        rows.push({ ref: { entity, key }, values, ts });
      });
    }
    return rows;
  }

  /** Entities changed since the last snapshot, per entity type, with their values as of `eventTime`. */
  snapshotRows(): EntitySnapshot[] {
    const out: EntitySnapshot[] = [];
    for (const entity of ENTITY_TYPES) {
      const names = this.layouts[entity];
      const counter = this.counters[entity];
      const values = new Float64Array(counter.pending(DIRTY_SNAPSHOT) * names.length);
      const keys: string[] = [];
      counter.drain(DIRTY_SNAPSHOT, (key, sums, offset) => {
        fillAggregateVector(sums, offset, this.prior, values, keys.length * names.length, this.windows.length);
        keys.push(key);
      });
      if (keys.length > 0) out.push({ entity, ts: this.eventTime, names, keys, values });
    }
    return out;
  }

  /** Mark entities changed again (e.g. after their online write failed), so the next `flushRows` includes them. */
  touch(refs: readonly EntityRef[]): void {
    for (const ref of refs) this.counters[ref.entity as EntityType]?.touch(ref.key);
  }

  /** Entities waiting for an online flush. */
  pendingFlush(): number {
    let n = 0;
    for (const e of ENTITY_TYPES) n += this.counters[e].pending(DIRTY_ONLINE);
    return n;
  }

  /** Entities held per type. */
  sizes(): Record<EntityType, number> {
    return { user: this.counters.user.size, ad: this.counters.ad.size, campaign: this.counters.campaign.size, user_category: this.counters.user_category.size };
  }

  exportState(): AggregatorState {
    const counters: Record<string, WindowedCountsState> = {};
    for (const e of ENTITY_TYPES) counters[e] = this.counters[e].exportState();
    return { eventTime: this.eventTime, stats: { ...this.stats }, counters };
  }

  importState(state: AggregatorState): void {
    for (const e of ENTITY_TYPES) this.counters[e].importState(state.counters[e]);
    this.eventTime = state.eventTime;
    Object.assign(this.stats, state.stats);
  }

  private count(userId: string, adId: string, campaignId: string, category: string | undefined, at: number, now: number, imps: number, clicks: number): void {
    if (now > this.eventTime) {
      this.eventTime = now;
      for (const e of ENTITY_TYPES) this.counters[e].advance(now);
    }
    this.counters.user.add(userId, at, imps, clicks);
    this.counters.ad.add(adId, at, imps, clicks);
    this.counters.campaign.add(campaignId, at, imps, clicks);
    if (category !== undefined) this.counters.user_category.add(userCategoryKey(userId, category), at, imps, clicks);
  }

  private reject(): null {
    this.stats.invalid++;
    return null;
  }
}

const NEGATIVE_TS = /"ts":(\d+)[,}]/;

/**
 * Negatives are ~97% of the examples topic and count for nothing here (clicks come from positives),
 * so they skip the full parse: a record with `"label":0` and without `"label":1` is a negative
 * (quotes inside JSON strings are escaped, so these patterns only match keys). Anything else — a
 * positive, or a producer that writes spaces — is parsed in full. The ts read here is only used
 * to pace the streams.
 */
function quickNegative(text: string): ParsedEvent | null {
  if (!text.includes('"label":0') || text.includes('"label":1')) return null;
  const m = NEGATIVE_TS.exec(text);
  if (m === null) return null;
  return { what: 'negative', userId: '', adId: '', campaignId: '', category: undefined, ts: Number(m[1]), clickTs: Number(m[1]) };
}
