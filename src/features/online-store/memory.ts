/**
 * The embedded online store: one typed-array slab per entity type (a float32 row per entity plus
 * its ts and expiry), so a million entities cost about a Map entry and ~40 bytes each rather than
 * an object apiece. For `pctr start` (the aggregator and the ranker share the process) and tests.
 */
import type { EntityLayouts } from './codec.ts';
import { LayoutSet, type Layout } from './codec.ts';
import type { EntityRef, FeatureRow, FeatureVector, OnlineStore, PackedReader } from './online-store.ts';

export interface MemoryOnlineStoreConfig {
  readonly type: 'memory';
  /** Entries expire this long (wall time) after their last put; 0 = never. */
  readonly ttlMs: number;
  readonly layouts?: EntityLayouts;
}

export const DEFAULT_MEMORY_CONFIG: MemoryOnlineStoreConfig = { type: 'memory', ttlMs: 0 };

/** How often (in puts) expired entries are swept; reads skip them anyway. */
const SWEEP_EVERY_PUTS = 100_000;

class Slab {
  readonly index = new Map<string, number>();
  private readonly free: number[] = [];
  private size = 0;
  values: Float32Array;
  ts: Float64Array;
  expires: Float64Array;

  constructor(
    readonly layout: Layout,
    capacity = 1024,
  ) {
    this.values = new Float32Array(capacity * layout.names.length);
    this.ts = new Float64Array(capacity);
    this.expires = new Float64Array(capacity);
  }

  slotFor(key: string): number {
    let slot = this.index.get(key);
    if (slot !== undefined) return slot;
    slot = this.free.pop() ?? this.size++;
    if (slot >= this.ts.length) this.grow();
    this.index.set(key, slot);
    return slot;
  }

  remove(key: string, slot: number): void {
    this.index.delete(key);
    this.free.push(slot);
  }

  private grow(): void {
    const cap = this.ts.length * 2;
    const w = this.layout.names.length;
    const values = new Float32Array(cap * w);
    values.set(this.values);
    const ts = new Float64Array(cap);
    ts.set(this.ts);
    const expires = new Float64Array(cap);
    expires.set(this.expires);
    [this.values, this.ts, this.expires] = [values, ts, expires];
  }
}

export class MemoryOnlineStore implements OnlineStore, PackedReader {
  private readonly layouts: LayoutSet;
  private readonly slabs = new Map<string, Slab>();
  private readonly ttlMs: number;
  private putsSinceSweep = 0;

  constructor(config: MemoryOnlineStoreConfig = DEFAULT_MEMORY_CONFIG) {
    this.layouts = new LayoutSet(config.layouts);
    this.ttlMs = config.ttlMs;
  }

  async get(refs: readonly EntityRef[]): Promise<(FeatureVector | null)[]> {
    const now = this.ttlMs > 0 ? Date.now() : 0;
    const out: (FeatureVector | null)[] = new Array(refs.length);
    for (let i = 0; i < refs.length; i++) {
      const slab = this.slab(refs[i].entity);
      const slot = slab.index.get(refs[i].key);
      if (slot === undefined || (this.ttlMs > 0 && slab.expires[slot] <= now)) {
        out[i] = null;
        continue;
      }
      out[i] = slab.layout.unpack(slab.values, slot * slab.layout.names.length);
    }
    return out;
  }

  async getPacked(refs: readonly EntityRef[], out: Float32Array, stride: number): Promise<number> {
    const now = this.ttlMs > 0 ? Date.now() : 0;
    let missing = 0;
    for (let i = 0; i < refs.length; i++) {
      const slab = this.slab(refs[i].entity);
      const slot = slab.index.get(refs[i].key);
      const w = slab.layout.names.length;
      const at = i * stride;
      if (slot === undefined || (this.ttlMs > 0 && slab.expires[slot] <= now)) {
        out.fill(NaN, at, at + w);
        missing++;
        continue;
      }
      const values = slab.values;
      for (let j = 0, from = slot * w; j < w; j++) out[at + j] = values[from + j];
    }
    return missing;
  }

  layoutOf(entity: string): readonly string[] {
    return this.layouts.get(entity).names;
  }

  async put(rows: readonly FeatureRow[]): Promise<void> {
    const expires = this.ttlMs > 0 ? Date.now() + this.ttlMs : Infinity;
    // Validate every row before writing any, so a bad row leaves the store unchanged.
    const scratch = new Float32Array(rows.length * this.layouts.maxWidth);
    for (let r = 0; r < rows.length; r++) {
      const layout = this.slab(rows[r].ref.entity).layout;
      layout.pack(rows[r].values, scratch.subarray(r * this.layouts.maxWidth, r * this.layouts.maxWidth + layout.names.length));
    }
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r];
      const slab = this.slab(row.ref.entity);
      const slot = slab.slotFor(row.ref.key);
      const w = slab.layout.names.length;
      slab.values.set(scratch.subarray(r * this.layouts.maxWidth, r * this.layouts.maxWidth + w), slot * w);
      slab.ts[slot] = row.ts;
      slab.expires[slot] = expires;
    }
    this.putsSinceSweep += rows.length;
    if (this.ttlMs > 0 && this.putsSinceSweep >= SWEEP_EVERY_PUTS) this.sweep();
  }

  /** Number of live entries (all entity types). */
  size(): number {
    let n = 0;
    for (const slab of this.slabs.values()) n += slab.index.size;
    return n;
  }

  async close(): Promise<void> {
    this.slabs.clear();
  }

  private slab(entity: string): Slab {
    let slab = this.slabs.get(entity);
    if (slab === undefined) {
      slab = new Slab(this.layouts.get(entity));
      this.slabs.set(entity, slab);
    }
    return slab;
  }

  private sweep(): void {
    this.putsSinceSweep = 0;
    const now = Date.now();
    for (const slab of this.slabs.values()) {
      for (const [key, slot] of slab.index) if (slab.expires[slot] <= now) slab.remove(key, slot);
    }
  }
}
