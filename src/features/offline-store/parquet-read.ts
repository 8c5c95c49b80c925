/**
 * Reading the offline store with DuckDB: the hour files of a range (pruned by path), filtered to the
 * exact range, optionally with negatives downsampled and entity aggregates attached as of each
 * example's time (ASOF JOIN on the snapshots), sorted by (ts, impressionId) and streamed into
 * columnar batches.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { allocateColumns, hashCategory, type FeatureSchema, type RawBatch } from '../../core/index.ts';
import { DEFAULT_CTR_PRIOR, ENTITY_LAYOUTS, defaultFeatures, type EntityType } from '../definitions.ts';
import { featureColumn } from './columns.ts';
import { partitionFiles, snapshotRoot, sqlIdent, sqlString, HOUR_MS } from './layout.ts';
import type { OfflineStats, ReadOptions, TimeRange } from './offline-store.ts';

/** How far back a point-in-time read looks for an entity's latest snapshot: the longest window plus slack. */
export const SNAPSHOT_LOOKBACK_MS = 26 * HOUR_MS;

const ENTITY_KEY: Record<EntityType, (col: (name: string) => string | null) => string | null> = {
  user: (col) => col('userId'),
  ad: (col) => col('adId'),
  campaign: (col) => col('campaignId'),
  user_category: (col) => {
    const cat = col(featureColumn('ad_category'));
    return cat === null ? null : `(${col('userId')} || '|' || CAST(${cat} AS VARCHAR))`;
  },
};

const parquetList = (files: readonly string[]) => `read_parquet([${files.map(sqlString).join(', ')}], union_by_name = true)`;

async function describe(con: DuckDBConnection, files: readonly string[]): Promise<Map<string, { name: string; type: string }>> {
  const reader = await con.runAndReadAll(`DESCRIBE SELECT * FROM ${parquetList(files)}`);
  const out = new Map<string, { name: string; type: string }>();
  for (const [name, type] of reader.getRows()) out.set(String(name).toLowerCase(), { name: String(name), type: String(type) });
  return out;
}

function rangeFilter(range: TimeRange, alias = ''): string {
  return `${alias}ts >= ${Math.ceil(range.from)} AND ${alias}ts < ${Math.ceil(range.to)}`;
}

/** The query behind `read`, or null when the range has no files. */
async function buildQuery(con: DuckDBConnection, dir: string, range: TimeRange, schema: FeatureSchema, opts: ReadOptions): Promise<string | null> {
  const files = partitionFiles(dir, range);
  if (files.length === 0) return null;
  const present = await describe(con, files);
  const col = (name: string): string | null => {
    const c = present.get(name.toLowerCase());
    return c === undefined ? null : `e.${sqlIdent(c.name)}`;
  };
  const ctes: string[] = [];
  let where = rangeFilter(range);
  const w = opts.sampleNegatives;
  if (w !== undefined && w < 1) {
    // hash() of the id and seed: the same examples are kept by every read with this seed.
    where += ` AND (label = 1 OR hash(impressionId, ${Math.trunc(opts.seed ?? 0)}) % 1000000 < ${Math.round(w * 1_000_000)})`;
  }
  ctes.push(`e AS (SELECT * FROM ${parquetList(files)} WHERE ${where})`);
  const joins: string[] = [];
  const attached = new Map<string, string>();
  const prior = opts.prior ?? DEFAULT_CTR_PRIOR;
  for (const entity of opts.pointInTime ?? []) {
    const defaults = defaultFeatures(entity, prior);
    const snapFiles = partitionFiles(snapshotRoot(dir, entity), { from: range.from - SNAPSHOT_LOOKBACK_MS, to: range.to });
    const key = ENTITY_KEY[entity](col);
    const alias = `s_${entity}`;
    const joinable = snapFiles.length > 0 && key !== null;
    if (joinable) {
      ctes.push(`${alias} AS (SELECT key AS __k, ts AS __ts, ${ENTITY_LAYOUTS[entity].map(sqlIdent).join(', ')} FROM ${parquetList(snapFiles)})`);
      // Strictly before the example: a snapshot at the same ms may already include its own click.
      joins.push(`ASOF LEFT JOIN ${alias} ON ${key} = ${alias}.__k AND e.ts > ${alias}.__ts`);
    }
    for (const name of ENTITY_LAYOUTS[entity]) {
      attached.set(name, joinable ? `COALESCE(${alias}.${sqlIdent(name)}, ${defaults[name]})` : `CAST(${defaults[name]} AS DOUBLE)`);
    }
  }
  const select = schema.fields.map((f, i) => {
    const fromSnapshot = attached.get(f.name);
    if (fromSnapshot !== undefined) return `${fromSnapshot} AS c${i}`;
    const c = present.get(featureColumn(f.name).toLowerCase());
    if (c === undefined) return `NULL AS c${i}`;
    const ref = `e.${sqlIdent(c.name)}`;
    if (f.kind === 'categorical') return `${ref} AS c${i}`;
    return `${c.type === 'VARCHAR' ? 'TRY_CAST' : 'CAST'}(${ref} AS DOUBLE) AS c${i}`;
  });
  select.push('e.label AS __label', 'CAST(e.ts AS DOUBLE) AS __ts');
  return `WITH ${ctes.join(', ')} SELECT ${select.join(', ')} FROM e ${joins.join(' ')} ORDER BY e.ts, e.impressionId`;
}

class BatchFill {
  columns;
  labels: Uint8Array;
  ts: Float64Array;
  n = 0;
  constructor(
    readonly schema: FeatureSchema,
    readonly size: number,
  ) {
    this.columns = allocateColumns(schema, size);
    this.labels = new Uint8Array(size);
    this.ts = new Float64Array(size);
  }
  take(): RawBatch {
    const n = this.n;
    const sub = n === this.size;
    return {
      n,
      schema: this.schema,
      columns: sub ? this.columns : this.columns.map((c) => c.subarray(0, n)),
      labels: sub ? this.labels : this.labels.subarray(0, n),
      ts: sub ? this.ts : this.ts.subarray(0, n),
    };
  }
}

export async function* readExampleBatches(con: DuckDBConnection, dir: string, range: TimeRange, schema: FeatureSchema, opts: ReadOptions = {}): AsyncGenerator<RawBatch> {
  const sql = await buildQuery(con, dir, range, schema, opts);
  if (sql === null) return;
  const size = Math.max(1, opts.batchSize ?? 8192);
  const kinds = schema.fields.map((f) => f.kind);
  const result = await con.stream(sql);
  let batch = new BatchFill(schema, size);
  while (true) {
    const chunk = await result.fetchChunk();
    if (chunk === null || chunk.rowCount === 0) break;
    const rows = chunk.rowCount;
    const vectors = Array.from({ length: kinds.length + 2 }, (_, i) => chunk.getColumnVector(i));
    const labelVec = vectors[kinds.length];
    const tsVec = vectors[kinds.length + 1];
    for (let r = 0; r < rows; r++) {
      const row = batch.n++;
      for (let i = 0; i < kinds.length; i++) {
        const v = vectors[i].getItem(r);
        if (kinds[i] === 'categorical') batch.columns[i][row] = v === null ? 0 : hashCategory(typeof v === 'string' ? v : String(v));
        else batch.columns[i][row] = v === null ? NaN : Number(v);
      }
      batch.labels[row] = Number(labelVec.getItem(r));
      batch.ts[row] = Number(tsVec.getItem(r));
      if (batch.n === size) {
        yield batch.take();
        batch = new BatchFill(schema, size);
      }
    }
  }
  if (batch.n > 0) yield batch.take();
}

export async function exampleStats(con: DuckDBConnection, dir: string, range: TimeRange): Promise<OfflineStats> {
  const files = partitionFiles(dir, range);
  if (files.length === 0) return { rows: 0, positives: 0, minTs: null, maxTs: null };
  const reader = await con.runAndReadAll(
    `SELECT count(*)::DOUBLE, coalesce(sum(label), 0)::DOUBLE, min(ts)::DOUBLE, max(ts)::DOUBLE FROM ${parquetList(files)} WHERE ${rangeFilter(range)}`,
  );
  const [rows, positives, minTs, maxTs] = reader.getRows()[0] as (number | null)[];
  return { rows: rows ?? 0, positives: positives ?? 0, minTs, maxTs };
}
