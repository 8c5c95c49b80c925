/**
 * The numbers trees split on, read straight from RawBatch columns (no hashing): a numeric field is
 * one feature (its raw value, NaN missing); a categorical field is two, its value's count and
 * smoothed click rate from the training slice (categorical.ts). Training builds the features one
 * column at a time (out-of-fold rates for training rows) so the full matrix never exists; serving
 * builds row-major rows for a batch in a reused buffer, finding columns by field name.
 */
import { PctrError } from '../../../core/index.ts';
import type { Column, FeatureSchema, RawBatch } from '../../../core/index.ts';
import { assignFolds, CategoryLookup, fitCategoryField, KeyIndex, type CategoryTable } from './categorical.ts';
import type { GbdtParams } from './params.ts';

/** Labeled rows held in memory, one column per model schema field (schema order). */
export interface Rows {
  readonly n: number;
  readonly columns: readonly Column[];
  readonly labels: Uint8Array;
}

export function featureNames(schema: FeatureSchema): string[] {
  return schema.fields.flatMap((f) => (f.kind === 'numeric' ? [f.name] : [`${f.name}:count`, `${f.name}:ctr`]));
}

/** Receives feature `f`'s values for the training rows and, when there are any, the validation rows (buffers are reused). */
export type FeatureSink = (f: number, train: Float32Array, valid: Float32Array | null) => void;

/**
 * Fits the categorical tables on `train` and hands every feature's columns to `sink`, in order.
 * Returns one table per categorical field (schema order).
 */
export function buildTrainingFeatures(schema: FeatureSchema, train: Rows, valid: Rows | null, p: GbdtParams, sink: FeatureSink): CategoryTable[] {
  const n = train.n;
  let clicks = 0;
  for (let r = 0; r < n; r++) clicks += train.labels[r];
  const options = { minCount: p.catMinCount, smoothing: p.catSmoothing, folds: p.catFolds, prior: n > 0 ? clicks / n : 0 };
  const hasCategorical = schema.fields.some((f) => f.kind === 'categorical');
  const folds = hasCategorical ? assignFolds(n, p.catFolds, p.seed) : new Uint8Array(0);
  const index = new KeyIndex(hasCategorical ? n : 0);
  const trainCount = new Float32Array(hasCategorical ? n : 0);
  const trainCtr = new Float32Array(hasCategorical ? n : 0);
  const vn = valid?.n ?? 0;
  const validPair = new Float32Array(hasCategorical ? 2 * vn : 0);
  const validCount = new Float32Array(vn);
  const validCtr = new Float32Array(vn);
  const tables: CategoryTable[] = [];
  let f = 0;
  schema.fields.forEach((field, i) => {
    if (field.kind === 'numeric') {
      sink(f++, train.columns[i] as Float32Array, valid ? (valid.columns[i] as Float32Array) : null);
      return;
    }
    const table = fitCategoryField(train.columns[i] as Int32Array, train.labels, n, folds, options, index, { count: trainCount, ctr: trainCtr });
    tables.push(table);
    if (valid) {
      new CategoryLookup(table).write(valid.columns[i] as Int32Array, vn, validPair, 0, 2);
      for (let r = 0; r < vn; r++) {
        validCount[r] = validPair[2 * r];
        validCtr[r] = validPair[2 * r + 1];
      }
    }
    sink(f++, trainCount, valid ? validCount : null);
    sink(f++, trainCtr, valid ? validCtr : null);
  });
  return tables;
}

/** Serving-side features: row-major rows of a batch, in a buffer reused across calls. */
export class FeatureTransform {
  readonly width: number;
  private readonly lookups: (CategoryLookup | null)[];
  private readonly columnMaps = new WeakMap<FeatureSchema, Int32Array>();
  private buffer = new Float32Array(0);

  constructor(
    readonly schema: FeatureSchema,
    tables: readonly CategoryTable[],
  ) {
    let c = 0;
    this.lookups = schema.fields.map((f) => (f.kind === 'numeric' ? null : new CategoryLookup(tables[c++])));
    this.width = featureNames(schema).length;
  }

  /** Rows of `batch` as features, row r at [r·width, (r + 1)·width); valid until the next call. */
  transform(batch: RawBatch): Float32Array {
    const n = batch.n;
    const width = this.width;
    if (this.buffer.length < n * width) this.buffer = new Float32Array(Math.max(n * width, 2 * this.buffer.length));
    const out = this.buffer;
    const map = this.columnMap(batch.schema);
    let f = 0;
    for (let i = 0; i < this.lookups.length; i++) {
      const column = batch.columns[map[i]];
      const lookup = this.lookups[i];
      if (lookup === null) {
        for (let r = 0, o = f; r < n; r++, o += width) out[o] = column[r];
        f++;
      } else {
        lookup.write(column as Int32Array, n, out, f, width);
        f += 2;
      }
    }
    return out;
  }

  private columnMap(schema: FeatureSchema): Int32Array {
    let map = this.columnMaps.get(schema);
    if (map !== undefined) return map;
    map = columnMapOf(this.schema, schema);
    this.columnMaps.set(schema, map);
    return map;
  }
}

/** For each field of `model`, the column of `batch` holding it (by name, kind checked). */
export function columnMapOf(model: FeatureSchema, batch: FeatureSchema): Int32Array {
  return Int32Array.from(model.fields, (f) => {
    const i = batch.fields.findIndex((g) => g.name === f.name);
    if (i < 0) throw new PctrError('PCTR_VALIDATION', `the batch has no field ${f.name}, which the model reads`);
    if (batch.fields[i].kind !== f.kind) throw new PctrError('PCTR_VALIDATION', `field ${f.name} is ${batch.fields[i].kind} in the batch but ${f.kind} in the model`);
    return i;
  });
}
