/**
 * One categorical column of a synthetic data set: values drawn by Zipf-like frequency (value 0 is
 * the most common), an optional missing rate, a hidden logit effect per value and an opaque token
 * per value (a 32-bit hash, written as 8 hex digits like Criteo's and Avazu's hashed fields).
 * Effects and tokens come from hashes and frequencies from a head table plus a power-law tail,
 * so million-value vocabularies need no per-value storage.
 */
import { hashPair } from '../../core/index.ts';
import { AliasTable, hashNormal, type Rng, ZipfSampler } from '../rng.ts';

export interface CategoricalSpec {
  /** Distinct values. */
  readonly vocab: number;
  /** Zipf exponent of value frequencies (0 = uniform); ignored when `weights` is given. */
  readonly zipf: number;
  /** Explicit value frequencies (length = vocab), for small fields with a known shape. */
  readonly weights?: readonly number[];
  /** Share of rows where the field is empty. */
  readonly missing?: number;
  /** Spread (logit) of the per-value effects; 0 = no effect on the label. */
  readonly sigma: number;
}


export class CategoricalField {
  readonly spec: CategoricalSpec;
  private readonly table: AliasTable | ZipfSampler;
  private readonly missing: number;
  private readonly salt: number;
  /** Effect of the field being empty. */
  private readonly missingEffect: number;

  constructor(spec: CategoricalSpec, salt: number) {
    this.spec = spec;
    this.table = spec.weights ? new AliasTable(spec.weights) : new ZipfSampler(spec.vocab, spec.zipf);
    this.missing = spec.missing ?? 0;
    this.salt = salt;
    this.missingEffect = spec.sigma * hashNormal(hashPair(-1, 0x3e55, salt));
  }

  /** A value number, or -1 for missing. */
  sample(rng: Rng): number {
    if (this.missing > 0 && rng.next() < this.missing) return -1;
    return this.table.sample(rng);
  }

  effect(value: number): number {
    return value < 0 ? this.missingEffect : this.spec.sigma * hashNormal(hashPair(value, 0x5eed, this.salt));
  }

  /**
   * Coordinate `k` of the value's hidden latent vector (standard-normal-like, from a hash, so big
   * vocabularies need no storage); 0 for missing: an empty field says nothing about taste or topic.
   */
  factor(value: number, k: number): number {
    return value < 0 ? 0 : hashNormal(hashPair(value, 0xfac0 + k, this.salt));
  }

  /** The value's token (32 bits, written as 8 hex digits). */
  token(value: number): number {
    return hashPair(value, 0x70c3, this.salt);
  }
}

/** A hidden pairwise interaction between two value numbers (−1 = missing). */
export function interaction(a: number, b: number, salt: number, sigma: number): number {
  return sigma * hashNormal(hashPair(a, b, salt));
}
