/**
 * Writing the offline store's Parquet files with DuckDB: rows go into a scratch table through the
 * appender, then one `COPY … TO` per hour writes a file sorted by (ts, impressionId) under `_tmp`,
 * which is renamed into its hour directory (atomic: a reader sees the whole file or none).
 */
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { DuckDBAppender, DuckDBConnection } from '@duckdb/node-api';
import type { LabeledExample } from '../../core/index.ts';
import type { EntitySnapshot } from '../aggregates/aggregator.ts';
import { exampleColumns, type ColumnType, type ExampleColumn } from './columns.ts';
import { hourOf, partitionOf, snapshotRoot, sqlIdent, sqlString, tmpDir } from './layout.ts';

let scratchTables = 0;

function append(app: DuckDBAppender, type: ColumnType, v: string | number | null): void {
  if (v === null) return app.appendNull();
  switch (type) {
    case 'VARCHAR':
      return app.appendVarchar(v as string);
    case 'BIGINT':
      return app.appendBigInt(BigInt(Math.round(v as number)));
    case 'DOUBLE':
      return app.appendDouble(v as number);
    case 'INTEGER':
      return app.appendInteger(v as number);
    case 'UTINYINT':
      return app.appendUTinyInt(v as number);
  }
}

async function copyToFile(con: DuckDBConnection, select: string, dir: string, finalPath: string): Promise<void> {
  const tmp = join(tmpDir(dir), `${process.pid}-${scratchTables}-${Math.random().toString(36).slice(2)}.parquet`);
  mkdirSync(tmpDir(dir), { recursive: true });
  try {
    await con.run(`COPY (${select}) TO ${sqlString(tmp)} (FORMAT parquet, COMPRESSION zstd)`);
    mkdirSync(dirname(finalPath), { recursive: true });
    renameSync(tmp, finalPath);
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** Write `examples` as one file per hour of `ts` named `${name}.parquet`; returns the paths. */
export async function writeExampleFiles(con: DuckDBConnection, dir: string, examples: readonly LabeledExample[], name: string): Promise<string[]> {
  if (examples.length === 0) return [];
  const columns: ExampleColumn[] = exampleColumns(examples);
  const table = `scratch_examples_${++scratchTables}`;
  await con.run(`CREATE TABLE ${table} (${columns.map((c) => `${sqlIdent(c.name)} ${c.type}`).join(', ')}, __hour BIGINT)`);
  try {
    const app = await con.createAppender(table);
    const hours = new Set<number>();
    for (const e of examples) {
      for (const c of columns) append(app, c.type, c.get(e));
      const hour = hourOf(e.ts);
      hours.add(hour);
      app.appendBigInt(BigInt(hour));
      app.endRow();
    }
    app.closeSync();
    const files: string[] = [];
    for (const hour of [...hours].sort((a, b) => a - b)) {
      const path = join(dir, partitionOf(hour), `${name}.parquet`);
      await copyToFile(con, `SELECT * EXCLUDE (__hour) FROM ${table} WHERE __hour = ${hour} ORDER BY ts, impressionId`, dir, path);
      files.push(path);
    }
    return files;
  } finally {
    await con.run(`DROP TABLE IF EXISTS ${table}`);
  }
}

/** Write each snapshot as `snapshots/entity=<type>/<hour partition>/<ts>.parquet` (key, ts, values…). */
export async function writeSnapshotFiles(con: DuckDBConnection, dir: string, snapshots: readonly EntitySnapshot[]): Promise<string[]> {
  const files: string[] = [];
  for (const s of snapshots) {
    if (s.keys.length === 0) continue;
    const table = `scratch_snapshot_${++scratchTables}`;
    await con.run(`CREATE TABLE ${table} (key VARCHAR, ts BIGINT, ${s.names.map((n) => `${sqlIdent(n)} DOUBLE`).join(', ')})`);
    try {
      const app = await con.createAppender(table);
      const ts = BigInt(Math.round(s.ts));
      const w = s.names.length;
      for (let i = 0; i < s.keys.length; i++) {
        app.appendVarchar(s.keys[i]);
        app.appendBigInt(ts);
        for (let j = 0; j < w; j++) app.appendDouble(s.values[i * w + j]);
        app.endRow();
      }
      app.closeSync();
      const path = join(snapshotRoot(dir, s.entity), partitionOf(hourOf(s.ts)), `${Math.round(s.ts)}.parquet`);
      await copyToFile(con, `SELECT * FROM ${table} ORDER BY key`, dir, path);
      files.push(path);
    } finally {
      await con.run(`DROP TABLE IF EXISTS ${table}`);
    }
  }
  return files;
}
