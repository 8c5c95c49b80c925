/**
 * GBDT parameters, named after xgboost's where one exists (so the benchmark's peer takes the same
 * values): rounds, learning rate (eta), max leaves (lossguide), max depth, max bin, L2 (lambda),
 * min split gain (gamma), min child weight, early stopping rounds. The rest are pctr's own: how
 * categorical fields become numbers, the internal validation slice, and threads.
 * Values arrive as strings from the command line (`--param maxLeaves=63`), so they are coerced.
 */
import { z } from 'zod';

export const GbdtParams = z.strictObject({
  /** Boosting rounds at most (early stopping may keep fewer trees). */
  trees: z.coerce.number().int().min(1).max(100_000).default(100),
  /** Shrinkage applied to every leaf value (xgboost's eta). */
  learningRate: z.coerce.number().gt(0).max(1).default(0.1),
  /** Leaves per tree; trees grow best-first (xgboost's grow_policy=lossguide, max_leaves). */
  maxLeaves: z.coerce.number().int().min(2).max(4096).default(31),
  /** Depth limit; 0 = none (leaf-wise growth is then bounded by maxLeaves alone). */
  maxDepth: z.coerce.number().int().min(0).max(64).default(0),
  /** Value bins per feature (one more bin holds missing values), so a bin fits a byte. */
  maxBin: z.coerce.number().int().min(2).max(255).default(255),
  /** L2 regularization of leaf values (xgboost's lambda). */
  lambda: z.coerce.number().min(0).default(1),
  /** Smallest loss reduction a split must bring (xgboost's gamma). */
  gamma: z.coerce.number().min(0).default(0),
  /** Smallest hessian sum of a child (xgboost's min_child_weight). */
  minChildWeight: z.coerce.number().min(0).default(1),
  /** Smallest number of training rows in a child. */
  minChildSamples: z.coerce.number().int().min(1).default(1),
  /** Stop when validation logloss has not improved for this many rounds; 0 = never stop early. */
  earlyStoppingRounds: z.coerce.number().int().min(0).default(10),
  /** Share of the last training rows (time order) held out for early stopping when fit gets no validation data. */
  validationFraction: z.coerce.number().min(0).max(0.5).default(0.1),
  /** Categorical values seen fewer times in training are pooled with unseen values. */
  catMinCount: z.coerce.number().int().min(1).default(2),
  /** Weight of the prior CTR in a value's smoothed CTR: (clicks + m·prior) / (count + m). */
  catSmoothing: z.coerce.number().min(0).default(20),
  /** Folds of the out-of-fold target statistics of training rows (no row sees its own label). */
  catFolds: z.coerce.number().int().min(2).max(50).default(5),
  /** Threads building histograms (the main thread and threads − 1 workers). */
  threads: z.coerce.number().int().min(1).max(16).default(2),
  seed: z.coerce.number().int().default(1),
});
export type GbdtParams = z.output<typeof GbdtParams>;
