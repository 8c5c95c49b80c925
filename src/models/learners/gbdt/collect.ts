/**
 * Batch learners that need all their rows at once (GBDT bins and partitions them) read a batch
 * source into memory here: one growing typed array per model field, found in each batch by name,
 * plus labels and the range of event times (row positions when batches carry none).
 */
import { PctrError } from '../../../core/index.ts';
import type { Column, FeatureSchema, RawBatch } from '../../../core/index.ts';
import { checkClasses } from '../../training/fit-loop.ts';
import type { FitOptions } from '../../model.ts';
import { columnMapOf, type Rows } from './features.ts';
import type { GbdtParams } from './params.ts';

export interface CollectedRows extends Rows {
  readonly positives: number;
  readonly from: number;
  readonly to: number;
}

export async function collectRows(schema: FeatureSchema, source: AsyncIterable<RawBatch>, signal?: AbortSignal): Promise<CollectedRows> {
  let capacity = 1 << 12;
  let columns: Column[] = schema.fields.map((f) => (f.kind === 'numeric' ? new Float32Array(capacity) : new Int32Array(capacity)));
  let labels = new Uint8Array(capacity);
  let n = 0;
  let positives = 0;
  let from = Infinity;
  let to = -Infinity;
  const maps = new WeakMap<FeatureSchema, Int32Array>();
  for await (const batch of source) {
    signal?.throwIfAborted();
    if (!batch.labels) throw new PctrError('PCTR_DATA_INVALID', 'training batches must carry labels');
    let map = maps.get(batch.schema);
    if (map === undefined) maps.set(batch.schema, (map = columnMapOf(schema, batch.schema)));
    if (n + batch.n > capacity) {
      capacity = Math.max(n + batch.n, 2 * capacity);
      columns = columns.map((c) => grown(c, capacity, n));
      labels = grown(labels, capacity, n);
    }
    for (let f = 0; f < columns.length; f++) columns[f].set(batch.columns[map[f]].subarray(0, batch.n), n);
    labels.set(batch.labels.subarray(0, batch.n), n);
    for (let r = 0; r < batch.n; r++) positives += batch.labels[r];
    if (batch.ts) {
      for (let r = 0; r < batch.n; r++) {
        if (batch.ts[r] < from) from = batch.ts[r];
        if (batch.ts[r] > to) to = batch.ts[r];
      }
    }
    n += batch.n;
  }
  return {
    n,
    columns: columns.map((c) => c.subarray(0, n)),
    labels: labels.subarray(0, n),
    positives,
    from: from === Infinity ? 0 : from,
    to: to === -Infinity ? n - 1 : to,
  };
}

export interface TrainingSplit {
  /** Every row fit was given. */
  readonly rows: CollectedRows;
  /** The rows trees learn from, and the rows they stop early on (null: no early stopping). */
  readonly train: Rows;
  readonly valid: Rows | null;
}

/**
 * Reads fit's data and picks the early-stopping rows: `FitOptions.validation` when given, else the
 * last `validationFraction` of the rows in time order (none when earlyStoppingRounds is 0).
 */
export async function trainingSplit(
  schema: FeatureSchema,
  data: () => AsyncIterable<RawBatch>,
  p: Pick<GbdtParams, 'earlyStoppingRounds' | 'validationFraction'>,
  opts: Pick<FitOptions, 'validation' | 'signal'>,
): Promise<TrainingSplit> {
  const rows = await collectRows(schema, data(), opts.signal);
  checkClasses(rows.n, rows.positives);
  let train: Rows = rows;
  let valid: Rows | null = null;
  if (p.earlyStoppingRounds > 0 && opts.validation) {
    valid = await collectRows(schema, opts.validation(), opts.signal);
  } else if (p.earlyStoppingRounds > 0 && p.validationFraction > 0) {
    const cut = Math.floor(rows.n * (1 - p.validationFraction));
    if (cut > 0 && cut < rows.n) [train, valid] = [sliceRows(rows, 0, cut), sliceRows(rows, cut, rows.n)];
  }
  return { rows, train, valid: valid !== null && valid.n > 0 ? valid : null };
}

/** Rows [from, to) as views. */
export function sliceRows(rows: Rows, from: number, to: number): Rows {
  return { n: to - from, columns: rows.columns.map((c) => c.subarray(from, to)), labels: rows.labels.subarray(from, to) };
}

function grown<T extends Column | Uint8Array>(a: T, capacity: number, used: number): T {
  const out = new (a.constructor as new (n: number) => T)(capacity);
  out.set(a.subarray(0, used) as never);
  return out;
}
