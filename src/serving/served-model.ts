/**
 * What the ranker scores with: a loaded model plus where it came from (alias, `name@version`,
 * digest). pctr's own models score synchronously (`Model.predict`); a model whose runtime is
 * asynchronous (ONNX Runtime) is an `AsyncModel` (models/), and only requests it serves pay for an
 * await. The prior stands in before any model is registered.
 */
import { PctrError, type FeatureSchema, type RawBatch } from '../core/index.ts';
import { DEFAULT_CTR_PRIOR, type CtrPrior } from '../features/index.ts';
import type { Model } from '../models/index.ts';

export type ModelAlias = 'champion' | 'challenger';

export interface ServedModel {
  /** `champion`, `challenger`, or `prior` for the stand-in. */
  readonly alias: ModelAlias | 'prior';
  /** `name@version` (`name@prior` for the stand-in), logged with every impression it scores. */
  readonly label: string;
  readonly version: number | null;
  readonly kind: string;
  readonly digest: string;
  readonly loadedAt: string;
  readonly model: Model;
}

/** Column the prior reads: the ad's smoothed CTR over 24 h, itself the prior for a cold ad. */
const PRIOR_COLUMN = 'ad_ctr_24h';

/**
 * The model served before any is registered: pCTR = the ad's smoothed 24 h CTR from the online
 * store (the base rate for an ad never seen), so the loop can start from nothing and its first
 * impressions are ranked by something better than the bid alone.
 */
export class PriorModel implements Model {
  readonly kind = 'prior';
  readonly schema: FeatureSchema = { fields: [{ name: PRIOR_COLUMN, kind: 'numeric' }] };
  private readonly columns = new WeakMap<FeatureSchema, number>();

  constructor(private readonly prior: CtrPrior = DEFAULT_CTR_PRIOR) {}

  predict(batch: RawBatch, out: Float32Array): void {
    let c = this.columns.get(batch.schema);
    if (c === undefined) {
      c = batch.schema.fields.findIndex((f) => f.name === PRIOR_COLUMN && f.kind === 'numeric');
      this.columns.set(batch.schema, c);
    }
    const base = this.prior.ctr;
    if (c < 0) {
      out.fill(base, 0, batch.n);
      return;
    }
    const col = batch.columns[c];
    for (let i = 0; i < batch.n; i++) {
      const v = col[i];
      out[i] = v >= 0 && v <= 1 ? v : base;
    }
  }

  toArtifact(): never {
    throw new PctrError('PCTR_VALIDATION', 'the prior stand-in model has no artifact: register a trained model instead');
  }
}

export function priorServedModel(name: string, prior?: CtrPrior): ServedModel {
  return { alias: 'prior', label: `${name}@prior`, version: null, kind: 'prior', digest: '', loadedAt: new Date().toISOString(), model: new PriorModel(prior) };
}
