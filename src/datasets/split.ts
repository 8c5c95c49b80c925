/**
 * Time-ordered splits by row position: the first share of a file's data lines trains, the rest
 * tests. Counting lines needs one pass over the (decompressed) bytes but no parsing.
 */
import { PctrError } from '../core/index.ts';
import { openByteSource, translateReadError } from './byte-source.ts';
import type { RowRange } from './reader.ts';

/** Data lines in a file (after `headerLines`), malformed ones included, so ranges line up with readers. */
export async function countRows(path: string, opts: { headerLines?: number } = {}): Promise<number> {
  const src = await openByteSource(path);
  let lines = 0;
  let lastByte = 10;
  try {
    for await (const chunk of src.chunks) {
      let i = chunk.indexOf(10);
      while (i >= 0) {
        lines++;
        i = chunk.indexOf(10, i + 1);
      }
      if (chunk.length > 0) lastByte = chunk[chunk.length - 1];
    }
  } catch (e) {
    throw translateReadError(e, path, Math.max(0, lines - (opts.headerLines ?? 0)));
  }
  if (lastByte !== 10) lines++;
  return Math.max(0, lines - (opts.headerLines ?? 0));
}

export interface Split {
  readonly rows: number;
  readonly train: RowRange;
  readonly test: RowRange;
}

/** The first `trainFraction` of the rows (rounded down) train, the rest test. */
export async function split(path: string, opts: { trainFraction: number; headerLines?: number }): Promise<Split> {
  if (!(opts.trainFraction > 0 && opts.trainFraction < 1)) {
    throw new PctrError('PCTR_VALIDATION', `trainFraction must be in (0, 1), got ${opts.trainFraction}`);
  }
  const rows = await countRows(path, opts);
  const cut = Math.floor(rows * opts.trainFraction);
  return { rows, train: { from: 0, to: cut }, test: { from: cut, to: rows } };
}
