/**
 * The columnar batch: the data currency between loaders, the offline store, the ranker and the
 * learners. One typed-array column per field, so no per-example object exists on the training path.
 * Categorical values are hashed to 32 bits once, where they are parsed; numeric values stay raw
 * (NaN = missing) so that tree learners can bin them and linear learners can bucket them.
 */
import { hashString } from './hash.ts';
import type { FeatureValue } from './schemas.ts';

export type FieldKind = 'categorical' | 'numeric';

export interface FieldDef {
  readonly name: string;
  readonly kind: FieldKind;
}

export interface FeatureSchema {
  readonly fields: readonly FieldDef[];
}

/** Categorical value hash; 0 is reserved for "missing". */
export const MISSING_CATEGORY = 0;

/** Seed of category hashes, for parsers that hash values while scanning them (same result as hashCategory). */
export const CATEGORY_SEED = 0x2c1b3c6d;

export function hashCategory(value: string): number {
  const h = hashString(value, CATEGORY_SEED);
  return h === MISSING_CATEGORY ? 1 : h | 0;
}

export type Column = Float32Array | Int32Array;

export interface RawBatch {
  /** Number of examples. */
  readonly n: number;
  readonly schema: FeatureSchema;
  /** One column per schema field, same order: numeric → Float32Array (NaN missing), categorical → Int32Array (hashCategory, 0 missing). */
  readonly columns: readonly Column[];
  /** Click labels (0/1), when known. */
  readonly labels?: Uint8Array;
  /** Event time (epoch ms) per example, when known. */
  readonly ts?: Float64Array;
}

export function allocateColumns(schema: FeatureSchema, n: number): Column[] {
  return schema.fields.map((f) => (f.kind === 'numeric' ? new Float32Array(n).fill(NaN) : new Int32Array(n)));
}

/**
 * Writes rows of named feature values into a batch; used where features arrive as records
 * (served features, labeled examples). Unknown names are ignored; missing ones stay missing.
 */
export class RawBatchBuilder {
  readonly schema: FeatureSchema;
  private readonly index = new Map<string, number>();
  private columns: Column[];
  private labels: Uint8Array;
  private ts: Float64Array;
  private capacity: number;
  n = 0;

  constructor(schema: FeatureSchema, capacity = 1024) {
    this.schema = schema;
    schema.fields.forEach((f, i) => this.index.set(f.name, i));
    this.capacity = Math.max(1, capacity);
    this.columns = allocateColumns(schema, this.capacity);
    this.labels = new Uint8Array(this.capacity);
    this.ts = new Float64Array(this.capacity);
  }

  add(features: Readonly<Record<string, FeatureValue>>, label?: number, ts?: number): void {
    if (this.n === this.capacity) this.grow();
    const row = this.n++;
    for (const name in features) {
      const i = this.index.get(name);
      if (i === undefined) continue;
      const v = features[name];
      const col = this.columns[i];
      if (this.schema.fields[i].kind === 'numeric') {
        col[row] = typeof v === 'number' ? v : Number(v);
      } else {
        col[row] = hashCategory(typeof v === 'string' ? v : String(v));
      }
    }
    if (label !== undefined) this.labels[row] = label;
    if (ts !== undefined) this.ts[row] = ts;
  }

  /** The rows added so far, as views (no copy); the builder must not be reused after. */
  build(opts: { labels?: boolean; ts?: boolean } = {}): RawBatch {
    const n = this.n;
    return {
      n,
      schema: this.schema,
      columns: this.columns.map((c) => c.subarray(0, n)),
      labels: opts.labels ? this.labels.subarray(0, n) : undefined,
      ts: opts.ts ? this.ts.subarray(0, n) : undefined,
    };
  }

  private grow(): void {
    const cap = this.capacity * 2;
    this.columns = this.columns.map((c) => {
      const next = c instanceof Float32Array ? new Float32Array(cap).fill(NaN) : new Int32Array(cap);
      next.set(c);
      return next;
    });
    const labels = new Uint8Array(cap);
    labels.set(this.labels);
    this.labels = labels;
    const ts = new Float64Array(cap);
    ts.set(this.ts);
    this.ts = ts;
    this.capacity = cap;
  }
}
