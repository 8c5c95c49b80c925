/**
 * The boosting loop for logloss: each round takes the gradient p − y and hessian p(1 − p) of every
 * training row at the current margins, grows one tree on them, and scores the validation rows
 * (on their bins) to stop early: when validation logloss has not improved for
 * `earlyStoppingRounds` rounds, the forest is cut back to the best round, as xgboost keeps
 * best_iteration. Between rounds it yields to the event loop, reports progress and honours aborts.
 */
import type { FitOptions } from '../../model.ts';
import { TreeGrower, type BinnedRows } from './grow.ts';
import type { GbdtParams } from './params.ts';
import type { Forest } from './tree.ts';

export interface BoostData {
  /** Training rows; their labels are arrays.labels. */
  readonly train: BinnedRows;
  /** Validation rows binned the same way, or null (no early stopping). */
  readonly valid: { readonly n: number; readonly bins: Uint8Array; readonly labels: Uint8Array } | null;
  readonly baseMargin: number;
}

export interface BoostResult {
  /** Trees kept (the best round when stopping early). */
  readonly trees: number;
  /** Rounds run. */
  readonly rounds: number;
  readonly trainLogloss: number;
  readonly validationLogloss?: number;
}

/** Logloss of one row from its margin m, without overflow: log(1 + e^−|m|) + max(m, 0) − y·m. */
function rowLoss(m: number, y: number): number {
  return Math.log1p(Math.exp(-Math.abs(m))) + (m > 0 ? m : 0) - y * m;
}

function meanLoss(margins: Float64Array, labels: Uint8Array, n: number): number {
  let s = 0;
  for (let r = 0; r < n; r++) s += rowLoss(margins[r], labels[r]);
  return s / n;
}

export async function boost(forest: Forest, data: BoostData, p: GbdtParams, threads: number, opts: Pick<FitOptions, 'signal' | 'onProgress'>): Promise<BoostResult> {
  const { train, valid } = data;
  const n = train.n;
  const validMargins = valid ? new Float64Array(valid.n).fill(data.baseMargin) : null;
  const labels = train.arrays.labels;
  const stopAfter = valid && valid.n > 0 ? p.earlyStoppingRounds : 0;
  let best = 0;
  let bestLoss = validMargins ? meanLoss(validMargins, valid!.labels, valid!.n) : Infinity;
  let rounds = 0;
  const grower = await TreeGrower.create(train, p, threads);
  const margins = grower.start(data.baseMargin);
  // The training margins of the best round so far (its training loss is reported), when stopping early may cut back to it.
  const bestMargins = validMargins ? Float64Array.from(margins) : null;
  try {
    for (let t = 0; t < p.trees; t++) {
      opts.signal?.throwIfAborted();
      grower.grow(forest);
      rounds = t + 1;
      let status = `tree ${rounds}/${p.trees}`;
      if (validMargins) {
        forest.addBinnedMargins(t, valid!.bins, valid!.n, validMargins);
        const v = meanLoss(validMargins, valid!.labels, valid!.n);
        status += `: validation logloss ${v.toFixed(5)}`;
        if (v < bestLoss) {
          [best, bestLoss] = [rounds, v];
          bestMargins!.set(margins);
        } else if (stopAfter > 0 && rounds - best >= stopAfter) break;
      } else {
        best = rounds;
      }
      opts.onProgress?.(rounds / p.trees, status);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  } finally {
    await grower.close();
  }
  const trainLoss = meanLoss(best === rounds || bestMargins === null ? margins : bestMargins, labels, n);
  forest.truncate(best);
  return { trees: best, rounds, trainLogloss: trainLoss, ...(validMargins ? { validationLogloss: bestLoss } : {}) };
}
