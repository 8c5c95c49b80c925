/**
 * Criteo DAC-shaped rows: `label \t I1..I13 \t C1..C26`, no header, missing = empty field.
 * I fields are heavy-tailed counts driven by two hidden row factors (so they correlate, as real
 * counts do); C fields have Criteo-like cardinalities (capped at 1M), Zipf frequencies and
 * missing rates. The label's logit sums per-value effects, count effects on log1p(count), four
 * pairwise interactions between small fields, and part of the hidden factors the counts only
 * hint at, so no learner reaches the oracle.
 */
import { Rng } from '../rng.ts';
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

/** Pairwise interactions (field indices into C1..C26, zero-based) and their spread. */
const INTERACTIONS: readonly [number, number, number][] = [
  [5, 13, 0.4],
  [8, 16, 0.4],
  [19, 22, 0.3],
  [0, 24, 0.3],
];

/** Direct effect of the hidden row factors: the counts show them only through noise. */
const FACTOR_EFFECT = [0.35, -0.2];

export class CriteoRows implements RowSource {
  readonly header = null;
  private readonly fields: CategoricalField[];
  private readonly missingEffect: Float64Array;
  private readonly interactionSalts: Uint32Array;
  private readonly values = new Int32Array(CATEGORICAL.length);
  private readonly counts = new Float64Array(COUNTS.length);

  constructor(seed: number) {
    const rng = new Rng(seed, 'criteo-model');
    this.interactionSalts = Uint32Array.from(INTERACTIONS, () => rng.u32());
    this.fields = CATEGORICAL.map((spec) => new CategoricalField(spec, rng.u32()));
    this.missingEffect = Float64Array.from(COUNTS, () => 0.2 * rng.normal());
  }

  sample(rng: Rng): number {
    const z1 = rng.quickNormal();
    const z2 = rng.quickNormal();
    let logit = FACTOR_EFFECT[0] * z1 + FACTOR_EFFECT[1] * z2;
    for (let j = 0; j < COUNTS.length; j++) {
      const s = COUNTS[j];
      if (s.missing > 0 && rng.next() < s.missing) {
        this.counts[j] = NaN;
        logit += this.missingEffect[j];
        continue;
      }
      const x = s.mu + s.a * z1 + s.b * z2 + s.sigma * rng.quickNormal();
      let v = Math.floor(Math.exp(x)) - 1;
      if (v < 0 && !s.signed) v = 0;
      this.counts[j] = v;
      // The effect is on log(count + 1) before rounding: the count shows it up to its rounding.
      logit += s.beta * (x - s.mu);
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
    return logit;
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
