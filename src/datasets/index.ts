/**
 * datasets: streaming readers for the public CTR data sets (Criteo DAC TSV, Avazu CSV; gzip or
 * plain, detected by magic bytes) that produce columnar RawBatches with labels and event times,
 * count and report malformed lines instead of failing on them, and stop with PCTR_FILE_TRUNCATED
 * after the good rows of a truncated gzip file; and time-ordered train/test splits by row position.
 * Used by training, replay and benchmarks; depends on core only.
 */
import { PctrError } from '../core/index.ts';
import type { FeatureSchema } from '../core/index.ts';
import { AVAZU_FORMAT } from './avazu.ts';
import { CRITEO_FORMAT } from './criteo.ts';
import { DatasetReader, type LineFormat, type ReadOptions } from './reader.ts';
import { split as splitRows, type Split } from './split.ts';

export { AVAZU_SCHEMA } from './avazu.ts';
export { CRITEO_SCHEMA } from './criteo.ts';
export { DatasetReader } from './reader.ts';
export { RecordReader, type DatasetRecord } from './records.ts';
export type { ReadOptions, ReadReport, RowRange } from './reader.ts';
export { countRows } from './split.ts';
export type { Split } from './split.ts';

export const DATASET_KINDS = ['criteo', 'avazu'] as const;
export type DatasetKind = (typeof DATASET_KINDS)[number];

function format(kind: DatasetKind): LineFormat {
  switch (kind) {
    case 'criteo':
      return CRITEO_FORMAT;
    case 'avazu':
      return AVAZU_FORMAT;
    default:
      throw new PctrError('PCTR_VALIDATION', `unknown data set "${String(kind)}" (known: ${DATASET_KINDS.join(', ')})`);
  }
}

export function isDatasetKind(s: string): s is DatasetKind {
  return (DATASET_KINDS as readonly string[]).includes(s);
}

export function datasetSchema(kind: DatasetKind): FeatureSchema {
  return format(kind).schema;
}

/** A one-pass reader of a data file of the given format. */
export function readDataset(kind: DatasetKind, path: string, opts?: ReadOptions): DatasetReader {
  return new DatasetReader(path, format(kind), opts);
}

export function readCriteo(path: string, opts?: ReadOptions): DatasetReader {
  return readDataset('criteo', path, opts);
}

export function readAvazu(path: string, opts?: ReadOptions): DatasetReader {
  return readDataset('avazu', path, opts);
}

/** Time-ordered split by row order: the first `trainFraction` of the data lines, then the rest. */
export function split(path: string, opts: { dataset: DatasetKind; trainFraction: number }): Promise<Split> {
  return splitRows(path, { trainFraction: opts.trainFraction, headerLines: format(opts.dataset).hasHeader ? 1 : 0 });
}
