/**
 * The exact numbers GBDT's fit trains and stops early on, as whole columns, for peers: the
 * benchmark hands them to xgboost so both boosters see the same features (count and out-of-fold
 * click rate of each categorical field, fitted on the same rows). Not used in training, which
 * never holds the full matrix.
 */
import type { FeatureSchema, RawBatch } from '../../../core/index.ts';
import type { FitOptions } from '../../model.ts';
import { trainingSplit } from './collect.ts';
import { buildTrainingFeatures, featureNames } from './features.ts';
import type { GbdtParams } from './params.ts';

export interface FeatureMatrix {
  readonly n: number;
  /** One column per feature (`names` order), NaN missing. */
  readonly columns: Float32Array[];
  readonly labels: Uint8Array;
}

export async function gbdtTrainingMatrices(
  schema: FeatureSchema,
  data: () => AsyncIterable<RawBatch>,
  p: GbdtParams,
  opts: Pick<FitOptions, 'validation'> = {},
): Promise<{ names: string[]; train: FeatureMatrix; valid: FeatureMatrix | null }> {
  const { train, valid } = await trainingSplit(schema, data, p, opts);
  const names = featureNames(schema);
  const trainColumns: Float32Array[] = [];
  const validColumns: Float32Array[] = [];
  buildTrainingFeatures(schema, train, valid, p, (f, t, v) => {
    trainColumns[f] = t.slice(0, train.n);
    if (v) validColumns[f] = v.slice(0, valid!.n);
  });
  return {
    names,
    train: { n: train.n, columns: trainColumns, labels: train.labels },
    valid: valid && { n: valid.n, columns: validColumns, labels: valid.labels },
  };
}
