/**
 * Criteo DAC-shaped rows: `label \t I1..I13 \t C1..C26`, no header, missing = empty field.
 * I fields are heavy-tailed counts driven by two hidden row factors (so they correlate, as real
 * counts do); C fields have Criteo-like cardinalities (capped at 1M), Zipf frequencies and
 * missing rates. The label's logit sums per-value effects, count effects on log1p(count), and part
 * of the hidden factors the counts only hint at, so no learner reaches the oracle; and, as in a real
 * ad log, interactions that are mostly low-rank rather than one free number per value pair:
 * - user × ad affinity: values of three user-side fields (C2, C8, C5) and three ad-side fields
 *   (C1, C13, C11) carry small hidden taste/topic vectors, and the logit adds their dot product
 *   (a user who likes one topic clicks on ads of that topic whatever the site);
 * - slot × ad format (C6 × C14) as a rank-4 dot product, and its modulation by the device (C17)
 *   as a three-way CP product Σ_k slot[k]·format[k]·device[k]: a format that works in a slot on
 *   one device works less on another, a cross no sum of field pairs can express;
 * - count × category slopes: how much a user's past activity (I1, I7, I11) raises the click
 *   chance depends on the ad (C1, C13, C11);
 * - one full table between two tiny fields (C9 × C17, 3 × 10 values), where every combination is
 *   common enough to have an effect of its own.
 * Hidden vectors come from hashes of the value, so million-value fields need no storage. With
 * these terms the published quality ladder (LR < FM ≤ FFM < DCN-v2) can show, as it does on the
 * real data; a sum of free pair tables alone (FFM's functional form) puts FFM on top.
 */
import { hashPair } from '../../core/index.ts';
import { hashNormal, Rng } from '../rng.ts';
import type { ByteWriter } from './byte-writer.ts';
import { type CategoricalSpec, CategoricalField, interaction } from './categorical-field.ts';
import type { RowSource } from './row-source.ts';

const TAB = 9;
const NEWLINE = 10;

const c = (vocab: number, zipf: number, sigma: number, missing = 0): CategoricalSpec => ({ vocab, zipf, sigma, missing });

/** C1..C26, cardinalities after the full DAC training set (the largest capped at 1M). */
const CATEGORICAL: readonly CategoricalSpec[] = [
  c(1460, 1.0, 0.2),
  c(583, 1.0, 0.2),
  c(1_000_000, 1.1, 0.13, 0.034),
  c(500_000, 1.1, 0.13, 0.034),
  c(305, 1.0, 0.2),
  c(24, 0.8, 0.26, 0.12),
  c(12_517, 1.0, 0.2),
  c(633, 1.0, 0.2),
  c(3, 0.8, 0.2),
  c(93_145, 1.05, 0.16),
  c(5_683, 1.0, 0.2),
  c(1_000_000, 1.1, 0.13, 0.034),
  c(3_194, 1.0, 0.2),
  c(27, 0.8, 0.26),
  c(14_992, 1.0, 0.16),
  c(1_000_000, 1.1, 0.13, 0.034),
  c(10, 0.8, 0.2),
  c(5_652, 1.0, 0.2),
  c(2_173, 1.0, 0.2, 0.44),
  c(4, 0.8, 0.2, 0.44),
  c(1_000_000, 1.1, 0.13, 0.034),
  c(18, 0.8, 0.2, 0.76),
  c(15, 0.8, 0.26),
  c(286_181, 1.05, 0.16, 0.034),
  c(105, 0.9, 0.2, 0.44),
  c(142_572, 1.05, 0.16, 0.44),
];

interface CountSpec {
  /** Share of rows where the count is missing. */
  readonly missing: number;
  /** log(count + 1) ≈ mu + a·z1 + b·z2 + sigma·ε. */
  readonly mu: number;
  readonly sigma: number;
  readonly a: number;
  readonly b: number;
  /** Effect on the logit per unit of log(count + 1), centred at mu. */
  readonly beta: number;
  /** Whether the count can be −1 (as I2 can in the real data). */
  readonly signed?: boolean;
}

const COUNTS: readonly CountSpec[] = [
  { missing: 0.45, mu: 0.3, sigma: 1.0, a: 0.5, b: 0, beta: 0.25 },
  { missing: 0, mu: 1.5, sigma: 1.5, a: 0, b: 0.4, beta: -0.05, signed: true },
  { missing: 0.21, mu: 2.0, sigma: 1.3, a: 0.3, b: 0, beta: 0.05 },
  { missing: 0.22, mu: 1.6, sigma: 0.9, a: 0.2, b: 0.2, beta: -0.1 },
  { missing: 0.03, mu: 8.0, sigma: 1.8, a: 0, b: 0.6, beta: -0.12 },
  { missing: 0.22, mu: 3.5, sigma: 1.6, a: 0.2, b: 0.4, beta: -0.08 },
  { missing: 0.04, mu: 1.5, sigma: 1.5, a: 0.6, b: 0, beta: 0.2 },
  { missing: 0.0005, mu: 2.4, sigma: 1.0, a: 0.2, b: 0.2, beta: 0.05 },
  { missing: 0.04, mu: 3.8, sigma: 1.4, a: 0.3, b: 0.2, beta: 0.05 },
  { missing: 0.45, mu: 0.3, sigma: 0.6, a: 0.5, b: 0, beta: 0.2 },
  { missing: 0.04, mu: 1.0, sigma: 1.0, a: 0.6, b: 0, beta: 0.25 },
  { missing: 0.77, mu: 0.2, sigma: 1.0, a: 0.4, b: 0, beta: 0.1 },
  { missing: 0.22, mu: 1.6, sigma: 1.0, a: 0.2, b: 0.2, beta: -0.05 },
];

/** Full pairwise tables (field indices into C1..C26, zero-based) and their spread. */
const INTERACTIONS: readonly [number, number, number][] = [[8, 16, 0.3]];

/** Length of the hidden vectors of the latent terms. */
const RANK = 4;

/**
 * A low-rank interaction: Σ_k Π_groups (Σ_{f ∈ group} vector_f[k]). A value's hidden vector is the
 * same in every term it enters (one taste, one topic).
 */
interface LatentTerm {
  /** Groups of fields (indices into C1..C26): two for a dot product, three for a CP product. */
  readonly groups: readonly (readonly number[])[];
  /** Standard deviation of the term on the logit over rows (measured: see `scaleLatent`). */
  readonly spread: number;
}

/** C2, C8, C5: the user's taste. */
const USER_SIDE = [1, 7, 4];
/** C1, C13, C11: the ad's topic. */
const AD_SIDE = [0, 12, 10];
/** Spreads: the oracle AUC stays near 0.84 and each kind of cross is large enough for a model that can express it to gain from it. */
const LATENT: readonly LatentTerm[] = [
  { groups: [USER_SIDE, AD_SIDE], spread: 0.3 },
  // Slot (C6) × ad format (C14), and the same pair modulated by the device (C17).
  { groups: [[5], [13]], spread: 0.6 },
  { groups: [[5], [13], [16]], spread: 0.6 },
];

/** Count × category slopes: [count index, field index, spread of the per-value slope per unit of log1p(count)]. */
const COUNT_SLOPES: readonly [number, number, number][] = [
  [0, 0, 0.1],
  [6, 12, 0.1],
  [10, 10, 0.1],
];

/** Direct effect of the hidden row factors: the counts show them only through noise. */
const FACTOR_EFFECT = [0.35, -0.2];

export class CriteoRows implements RowSource {
  readonly header = null;
  private readonly fields: CategoricalField[];
  private readonly missingEffect: Float64Array;
  private readonly interactionSalts: Uint32Array;
  private readonly slopeSalts: Uint32Array;
  /** Per latent term: spread / (its standard deviation over rows), measured once by `scaleLatent`. */
  private readonly latentScale: Float64Array;
  /** Per latent term: the mean vector of its modulating group (the last of three or more), subtracted from it. */
  private readonly latentCentre: Float64Array[];
  private readonly values = new Int32Array(CATEGORICAL.length);
  private readonly counts = new Float64Array(COUNTS.length);
  /** log(count + 1) − mu before rounding, 0 when the count is missing (what the slopes multiply). */
  private readonly countShift = new Float64Array(COUNTS.length);

  constructor(seed: number) {
    const rng = new Rng(seed, 'criteo-model');
    this.interactionSalts = Uint32Array.from(INTERACTIONS, () => rng.u32());
    this.fields = CATEGORICAL.map((spec) => new CategoricalField(spec, rng.u32()));
    this.missingEffect = Float64Array.from(COUNTS, () => 0.2 * rng.normal());
    this.slopeSalts = Uint32Array.from(COUNT_SLOPES, () => rng.u32());
    this.latentCentre = LATENT.map(() => new Float64Array(RANK));
    this.latentScale = new Float64Array(LATENT.length);
    this.scaleLatent(new Rng(seed, 'criteo-latent-scale'));
  }

  sample(rng: Rng): number {
    const z1 = rng.quickNormal();
    const z2 = rng.quickNormal();
    let logit = FACTOR_EFFECT[0] * z1 + FACTOR_EFFECT[1] * z2;
    for (let j = 0; j < COUNTS.length; j++) {
      const s = COUNTS[j];
      if (s.missing > 0 && rng.next() < s.missing) {
        this.counts[j] = NaN;
        this.countShift[j] = 0;
        logit += this.missingEffect[j];
        continue;
      }
      const x = s.mu + s.a * z1 + s.b * z2 + s.sigma * rng.quickNormal();
      let v = Math.floor(Math.exp(x)) - 1;
      if (v < 0 && !s.signed) v = 0;
      this.counts[j] = v;
      // The effect is on log(count + 1) before rounding: the count shows it up to its rounding.
      this.countShift[j] = x - s.mu;
      logit += s.beta * this.countShift[j];
    }
    for (let j = 0; j < this.fields.length; j++) {
      const v = this.fields[j].sample(rng);
      this.values[j] = v;
      logit += this.fields[j].effect(v);
    }
    for (let k = 0; k < INTERACTIONS.length; k++) {
      const [a, b, sigma] = INTERACTIONS[k];
      logit += interaction(this.values[a], this.values[b], this.interactionSalts[k], sigma);
    }
    for (let t = 0; t < LATENT.length; t++) logit += this.latentScale[t] * this.latent(t);
    for (let k = 0; k < COUNT_SLOPES.length; k++) {
      const [j, f, sigma] = COUNT_SLOPES[k];
      const v = this.values[f];
      if (v >= 0) logit += sigma * hashNormal(hashPair(v, j, this.slopeSalts[k])) * this.countShift[j];
    }
    return logit;
  }

  /** Σ_k Π_groups (Σ_{f ∈ group} vector_f[k]) over the current row's values; the modulating group centred. */
  private latent(t: number): number {
    const groups = LATENT[t].groups;
    const centre = this.latentCentre[t];
    let sum = 0;
    for (let k = 0; k < RANK; k++) {
      let product = 1;
      for (let g = 0; g < groups.length; g++) product *= this.side(groups[g], k) - (g > 1 && g === groups.length - 1 ? centre[k] : 0);
      sum += product;
    }
    return sum;
  }

  private side(group: readonly number[], k: number): number {
    let s = 0;
    for (const f of group) s += this.fields[f].factor(this.values[f], k);
    return s;
  }

  /**
   * Hidden vectors of a few head values decide most of a term's spread (Zipf), so each term is scaled
   * by its measured spread over rows, not a nominal one; and the modulating group of a three-way
   * term is centred on its mean, so the term adds only what its two-way part (a term of its own) lacks.
   */
  private scaleLatent(rng: Rng): void {
    const rows = 20_000;
    for (let t = 0; t < LATENT.length; t++) {
      const groups = LATENT[t].groups;
      const drawRow = (): void => {
        for (const group of groups) for (const f of group) this.values[f] = this.fields[f].sample(rng);
      };
      if (groups.length > 2) {
        const centre = this.latentCentre[t];
        for (let i = 0; i < rows; i++) {
          drawRow();
          for (let k = 0; k < RANK; k++) centre[k] += this.side(groups[groups.length - 1], k) / rows;
        }
      }
      let sum = 0;
      let squares = 0;
      for (let i = 0; i < rows; i++) {
        drawRow();
        const x = this.latent(t);
        sum += x;
        squares += x * x;
      }
      const variance = squares / rows - (sum / rows) ** 2;
      this.latentScale[t] = variance > 0 ? LATENT[t].spread / Math.sqrt(variance) : 0;
    }
    this.values.fill(0);
  }

  write(w: ByteWriter, label: number): void {
    w.uint(label);
    for (let j = 0; j < this.counts.length; j++) {
      w.byte(TAB);
      const v = this.counts[j];
      if (!Number.isNaN(v)) w.int(v);
    }
    for (let j = 0; j < this.fields.length; j++) {
      w.byte(TAB);
      const v = this.values[j];
      if (v >= 0) w.hex8(this.fields[j].token(v));
    }
    w.byte(NEWLINE);
  }
}
