/**
 * The ranker's one online-store read per request, with the fallback the design asks for: a read
 * that fails or exceeds the store's time budget returns null (the ranker then serves default
 * features) instead of failing the request. It tracks whether the store is currently failing
 * (`degraded`, cleared by the next successful read), and counts reads, misses and failures.
 */
import { errorMessage, isPctrError, silentLogger, type Logger } from '../core/index.ts';
import { ENTITY_LAYOUTS, ENTITY_TYPES, LAYOUT_WIDTH, canReadPacked, packVectors, type EntityRef, type FeatureVector, type OnlineStore, type PackedReader } from '../features/index.ts';
import type { ServingMetrics } from './metrics.ts';

export interface FeatureStoreStatus {
  readonly status: 'ok' | 'degraded';
  /** Failed or timed-out reads since start. */
  readonly failures: number;
  readonly lastError?: { readonly message: string; readonly code?: string; readonly at: string };
}

export class FeatureReader {
  /** The store, when it reads packed vectors in the served layouts (both backends, unless configured otherwise). */
  private readonly packed: PackedReader | null;
  private failing = false;
  private failures = 0;
  private failuresInOutage = 0;
  private lastError: FeatureStoreStatus['lastError'];

  constructor(
    private readonly store: OnlineStore,
    private readonly opts: { readonly metrics?: ServingMetrics; readonly logger?: Logger } = {},
  ) {
    this.packed = canReadPacked(store) && servesLayouts(store) ? store : null;
  }

  /** True while the store is failing (since the last failed read, until a read succeeds). */
  get degraded(): boolean {
    return this.failing;
  }

  /** The vectors of `refs`, or null when the store failed (serve defaults). Never throws. */
  async read(refs: readonly EntityRef[]): Promise<(FeatureVector | null)[] | null> {
    const m = this.opts.metrics;
    m?.featureReads.inc();
    let vectors: (FeatureVector | null)[];
    try {
      vectors = await this.store.get(refs);
    } catch (e) {
      this.failed(e);
      return null;
    }
    if (this.failing) this.recovered();
    let misses = 0;
    for (let i = 0; i < vectors.length; i++) if (vectors[i] === null) misses++;
    if (misses > 0) m?.featureMisses.inc(misses);
    return vectors;
  }

  /**
   * The ranking path's read: the refs' values into `out` as `packVectors` lays them out (NaN = no
   * value; `out` holds refs × LAYOUT_WIDTH floats), without a record per entity when the store
   * reads packed. False when the store failed (serve defaults). Never throws.
   */
  async readPacked(refs: readonly EntityRef[], out: Float32Array): Promise<boolean> {
    if (this.packed === null) {
      const vectors = await this.read(refs);
      if (vectors === null) return false;
      packVectors(refs, vectors, out);
      return true;
    }
    const m = this.opts.metrics;
    m?.featureReads.inc();
    let misses: number;
    try {
      misses = await this.packed.getPacked(refs, out, LAYOUT_WIDTH);
    } catch (e) {
      this.failed(e);
      return false;
    }
    if (this.failing) this.recovered();
    if (misses > 0) m?.featureMisses.inc(misses);
    return true;
  }

  status(): FeatureStoreStatus {
    const base = { status: this.failing ? ('degraded' as const) : ('ok' as const), failures: this.failures };
    return this.lastError === undefined ? base : { ...base, lastError: this.lastError };
  }

  private failed(e: unknown): void {
    const code = isPctrError(e) ? e.code : undefined;
    this.failures++;
    this.failuresInOutage++;
    this.lastError = { message: errorMessage(e), ...(code ? { code } : {}), at: new Date().toISOString() };
    const reason = code === 'PCTR_TIMEOUT' ? 'timeout' : code === 'PCTR_BACKEND_UNAVAILABLE' ? 'unavailable' : 'error';
    this.opts.metrics?.featureFailures.inc({ reason });
    if (!this.failing) {
      this.failing = true;
      this.opts.metrics?.degraded.set(1);
      (this.opts.logger ?? silentLogger).warn({ err: errorMessage(e), code }, 'online store read failed: serving default features until it recovers');
    }
  }

  private recovered(): void {
    (this.opts.logger ?? silentLogger).info({ failedReads: this.failuresInOutage }, 'online store recovered');
    this.failing = false;
    this.failuresInOutage = 0;
    this.opts.metrics?.degraded.set(0);
  }
}

/** True when the store packs every entity type in the served layout (a store configured with other layouts reads through `get`). */
function servesLayouts(store: PackedReader): boolean {
  const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);
  try {
    return ENTITY_TYPES.every((e) => same(store.layoutOf(e), ENTITY_LAYOUTS[e]));
  } catch {
    return false;
  }
}
