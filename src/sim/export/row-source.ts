import type { Rng } from '../rng.ts';
import type { ByteWriter } from './byte-writer.ts';

/**
 * A synthetic data set's rows and hidden label model. The exporter draws a row, turns its logit
 * into the true CTR, draws the label, and asks the source to write the row with that label.
 */
export interface RowSource {
  /** Header line (without newline), or null for headerless formats. */
  readonly header: string | null;
  /** Draw row `row` of `rows` into the source's state; returns its true logit without the intercept. */
  sample(rng: Rng, row: number, rows: number): number;
  /** Write the last sampled row, with its label, as one line. */
  write(w: ByteWriter, label: number): void;
}
