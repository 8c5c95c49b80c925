/**
 * `pctr sim --export`: a synthetic Criteo- or Avazu-format file drawn from a hidden logistic
 * model, with the true CTR of every row optionally written beside it (one number per line), so
 * a benchmark can compare a learner's AUC with the oracle's on the same rows.
 */
import { z } from 'zod';
import { parseOrThrow } from '../../core/index.ts';
import { Rng, sigmoid, solveIntercept } from '../rng.ts';
import { AvazuRows } from './avazu.ts';
import { ByteWriter } from './byte-writer.ts';
import { CriteoRows } from './criteo.ts';
import { OutputFile } from './output-file.ts';
import type { RowSource } from './row-source.ts';

export const EXPORT_FORMATS = ['criteo', 'avazu'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Default click rates: those of the real samples in ../shared/data (Criteo 21.7 %, Avazu 17.1 %). */
export const DEFAULT_EXPORT_CTR: Record<ExportFormat, number> = { criteo: 0.22, avazu: 0.17 };

const CALIBRATION_ROWS = 30_000;
const PROGRESS_EVERY = 1 << 16;
const ORACLE_DECIMALS = 8;

export const ExportOptionsSchema = z.strictObject({
  format: z.enum(EXPORT_FORMATS),
  rows: z.number().int().min(1).max(1e10),
  /** Output file; gzip-compressed when it ends in `.gz`. */
  out: z.string().min(1),
  /** Optional file of true CTRs, one per line in row order (`.gz` compresses). */
  oracleOut: z.string().min(1).optional(),
  seed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(1),
  /** Mean true CTR of the rows (the intercept is calibrated to it); default per format. */
  baseCtr: z.number().min(0.001).max(0.5).optional(),
  /** Avazu: days the `hour` column spans (rows are spread evenly in time order). */
  days: z.number().int().min(1).max(3660).default(10),
});
export type ExportOptions = z.input<typeof ExportOptionsSchema>;

export interface ExportSummary {
  readonly format: ExportFormat;
  readonly rows: number;
  readonly positives: number;
  /** positives / rows. */
  readonly rate: number;
  readonly meanOracleCtr: number;
  readonly seconds: number;
  readonly out: string;
  readonly oracleOut: string | null;
}

/** The rows and hidden model of a format. */
export function createRowSource(format: ExportFormat, seed: number, days = 10): RowSource {
  return format === 'criteo' ? new CriteoRows(seed) : new AvazuRows(seed, days);
}

export async function exportDataset(input: ExportOptions, onProgress?: (rowsDone: number) => void): Promise<ExportSummary> {
  const opts = parseOrThrow(ExportOptionsSchema, input, 'export options');
  const started = performance.now();
  const source = createRowSource(opts.format, opts.seed, opts.days);
  const baseCtr = opts.baseCtr ?? DEFAULT_EXPORT_CTR[opts.format];
  const intercept = calibrate(source, new Rng(opts.seed, 'export-calibration'), opts.rows, baseCtr);

  const out = new OutputFile(opts.out);
  const oracle = opts.oracleOut ? new OutputFile(opts.oracleOut) : null;
  const rows = new ByteWriter();
  const oracleRows = new ByteWriter(1 << 18);
  if (source.header !== null) rows.bytes(new TextEncoder().encode(`${source.header}\n`));
  const rng = new Rng(opts.seed, 'export-rows');
  let positives = 0;
  let ctrSum = 0;
  for (let row = 0; row < opts.rows; row++) {
    const p = sigmoid(intercept + source.sample(rng, row, opts.rows));
    const label = rng.next() < p ? 1 : 0;
    positives += label;
    ctrSum += p;
    source.write(rows, label);
    if (oracle) {
      oracleRows.fraction(p, ORACLE_DECIMALS);
      oracleRows.byte(10);
      if (oracleRows.full) await oracle.write(oracleRows.take());
    }
    if (rows.full) await out.write(rows.take());
    if (onProgress && (row & (PROGRESS_EVERY - 1)) === PROGRESS_EVERY - 1) onProgress(row + 1);
  }
  await out.write(rows.take());
  await out.close();
  if (oracle) {
    await oracle.write(oracleRows.take());
    await oracle.close();
  }
  onProgress?.(opts.rows);
  return {
    format: opts.format,
    rows: opts.rows,
    positives,
    rate: positives / opts.rows,
    meanOracleCtr: ctrSum / opts.rows,
    seconds: (performance.now() - started) / 1000,
    out: opts.out,
    oracleOut: opts.oracleOut ?? null,
  };
}

/** The intercept that gives the rows a mean true CTR of `baseCtr`, from a sample of rows spread over the file. */
function calibrate(source: RowSource, rng: Rng, rows: number, baseCtr: number): number {
  const offsets = new Float64Array(CALIBRATION_ROWS);
  for (let i = 0; i < offsets.length; i++) offsets[i] = source.sample(rng, Math.floor((i * rows) / offsets.length), rows);
  return solveIntercept(offsets, baseCtr);
}
