/**
 * The Parquet offline store (`file:DIR`): hour-partitioned Parquet files written and queried with an
 * embedded DuckDB. Writes are serialized on one connection; each read streams on its own.
 */
import { mkdirSync } from 'node:fs';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { PctrError, errorMessage, urlPath, urlScheme, type FeatureSchema, type LabeledExample, type RawBatch } from '../../core/index.ts';
import type { EntitySnapshot } from '../aggregates/aggregator.ts';
import type { OfflineStats, OfflineStore, ReadOptions, TimeRange } from './offline-store.ts';
import { exampleStats, readExampleBatches } from './parquet-read.ts';
import { writeExampleFiles, writeSnapshotFiles } from './parquet-write.ts';

export interface ParquetOfflineStoreConfig {
  readonly type: 'file';
  readonly dir: string;
  /** DuckDB worker threads (the machine is shared with the serving path). */
  readonly threads: number;
}

export function parseOfflineStoreUrl(url: string): ParquetOfflineStoreConfig {
  if (urlScheme(url) !== 'file' || urlPath(url) === '') {
    throw new PctrError('PCTR_CONFIG_INVALID', `offline store URL "${url}" is not file:DIR (a directory of Parquet files)`);
  }
  return { type: 'file', dir: urlPath(url), threads: 2 };
}

const NAME = /^[\w.-]{1,200}$/;

export class ParquetOfflineStore implements OfflineStore {
  readonly dir: string;
  private instance: Promise<DuckDBInstance> | null = null;
  private writer: Promise<DuckDBConnection> | null = null;
  private writes: Promise<unknown> = Promise.resolve();
  private readonly readers = new Set<DuckDBConnection>();

  constructor(readonly config: ParquetOfflineStoreConfig) {
    this.dir = config.dir;
    mkdirSync(this.dir, { recursive: true });
  }

  writeExamples(examples: readonly LabeledExample[], name: string): Promise<string[]> {
    if (!NAME.test(name)) throw new PctrError('PCTR_VALIDATION', `offline store file name "${name}" must be letters, digits, . - _`);
    return this.serialized('write examples', (con) => writeExampleFiles(con, this.dir, examples, name));
  }

  async writeSnapshots(snapshots: readonly EntitySnapshot[]): Promise<void> {
    await this.serialized('write snapshots', (con) => writeSnapshotFiles(con, this.dir, snapshots));
  }

  async *read(range: TimeRange, schema: FeatureSchema, opts: ReadOptions = {}): AsyncIterable<RawBatch> {
    checkRange(range);
    if (opts.sampleNegatives !== undefined && !(opts.sampleNegatives > 0 && opts.sampleNegatives <= 1)) {
      throw new PctrError('PCTR_VALIDATION', `sampleNegatives must be in (0, 1], got ${opts.sampleNegatives}`);
    }
    const con = await this.connect();
    this.readers.add(con);
    try {
      yield* readExampleBatches(con, this.dir, range, schema, opts);
    } catch (e) {
      throw wrap('read', e);
    } finally {
      this.readers.delete(con);
      con.closeSync();
    }
  }

  async stats(range: TimeRange): Promise<OfflineStats> {
    checkRange(range);
    const con = await this.connect();
    try {
      return await exampleStats(con, this.dir, range);
    } catch (e) {
      throw wrap('stats', e);
    } finally {
      con.closeSync();
    }
  }

  async close(): Promise<void> {
    await this.writes.catch(() => undefined);
    for (const con of this.readers) con.closeSync();
    if (this.writer) (await this.writer).closeSync();
    if (this.instance) (await this.instance).closeSync();
    this.writer = this.instance = null;
  }

  private connect(): Promise<DuckDBConnection> {
    this.instance ??= DuckDBInstance.create(':memory:', { threads: String(this.config.threads) });
    return this.instance.then((i) => i.connect());
  }

  private serialized<T>(what: string, fn: (con: DuckDBConnection) => Promise<T>): Promise<T> {
    this.writer ??= this.connect();
    const run = this.writes.catch(() => undefined).then(async () => {
      try {
        return await fn(await this.writer!);
      } catch (e) {
        throw wrap(what, e);
      }
    });
    this.writes = run;
    return run;
  }
}

function checkRange(range: TimeRange): void {
  if (!Number.isFinite(range.from) || !Number.isFinite(range.to) || range.to < range.from) {
    throw new PctrError('PCTR_VALIDATION', `time range must have finite from ≤ to, got [${range.from}, ${range.to})`);
  }
}

function wrap(what: string, e: unknown): PctrError {
  if (e instanceof PctrError) return e;
  return new PctrError('PCTR_INTERNAL', `offline store ${what} failed: ${errorMessage(e)}`, { cause: e });
}
