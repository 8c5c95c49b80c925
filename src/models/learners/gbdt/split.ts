/**
 * The best split of a node from its histograms (xgboost's exact-greedy criterion over bins): for
 * each feature and each cut "bin ≤ t", the gain
 *   G_L²/(H_L + λ) + G_R²/(H_R + λ) − G²/(H + λ)
 * with missing values (bin 0) sent left and then right, keeping the better direction as the
 * node's default, so rows missing at serving follow the side learned in training. Children must
 * keep a hessian sum ≥ min_child_weight and ≥ minChildSamples rows; the gain must exceed γ.
 */
import type { GbdtParams } from './params.ts';

/** As xgboost: a split must gain more than this even when γ = 0. */
const MIN_GAIN = 1e-6;

export class Split {
  gain = 0;
  feature = -1;
  /** Rows with bin ≤ bin go left (bin 0, missing, goes by missingLeft). */
  bin = 0;
  missingLeft = false;
  gLeft = 0;
  hLeft = 0;
  cLeft = 0;

  get found(): boolean {
    return this.feature >= 0;
  }

  reset(): void {
    this.gain = 0;
    this.feature = -1;
  }

  copy(from: Split): void {
    this.gain = from.gain;
    this.feature = from.feature;
    this.bin = from.bin;
    this.missingLeft = from.missingLeft;
    this.gLeft = from.gLeft;
    this.hLeft = from.hLeft;
    this.cLeft = from.cLeft;
  }
}

export interface NodeTotals {
  readonly g: number;
  readonly h: number;
  readonly c: number;
}

type SplitRules = Pick<GbdtParams, 'lambda' | 'gamma' | 'minChildWeight' | 'minChildSamples'>;

/** Best split of a node over `features` into `best` (best.found is false when no split gains enough). */
export function findBestSplit(
  hist: Float64Array,
  base: number,
  offsets: Int32Array,
  binCounts: Int32Array,
  features: Int32Array,
  total: NodeTotals,
  rules: SplitRules,
  best: Split,
): void {
  const { lambda, minChildWeight: mcw, minChildSamples: mcs } = rules;
  const { g: G, h: H, c: C } = total;
  const parent = (G * G) / (H + lambda);
  let bestGain = Math.max(rules.gamma, MIN_GAIN);
  best.reset();
  for (let k = 0; k < features.length; k++) {
    const f = features[k];
    const o = base + offsets[f];
    const nb = binCounts[f];
    const mg = hist[o];
    const mh = hist[o + 1];
    const mc = hist[o + 2];
    let gl = 0;
    let hl = 0;
    let cl = 0;
    for (let t = 1; t < nb; t++) {
      const b = o + 3 * t;
      gl += hist[b];
      hl += hist[b + 1];
      cl += hist[b + 2];
      if (cl === 0) continue;
      // Missing right: left = bins 1..t.
      let cr = C - cl;
      if (cl >= mcs && cr >= mcs && cr > 0) {
        const hr = H - hl;
        if (hl >= mcw && hr >= mcw) {
          const gr = G - gl;
          const gain = (gl * gl) / (hl + lambda) + (gr * gr) / (hr + lambda) - parent;
          if (gain > bestGain) {
            bestGain = gain;
            set(best, gain, f, t, false, gl, hl, cl);
          }
        }
      }
      if (mc === 0) continue;
      // Missing left: left = bins 0..t.
      const cl2 = cl + mc;
      cr = C - cl2;
      if (cr >= mcs && cr > 0 && cl2 >= mcs) {
        const gl2 = gl + mg;
        const hl2 = hl + mh;
        const hr = H - hl2;
        if (hl2 >= mcw && hr >= mcw) {
          const gr = G - gl2;
          const gain = (gl2 * gl2) / (hl2 + lambda) + (gr * gr) / (hr + lambda) - parent;
          if (gain > bestGain) {
            bestGain = gain;
            set(best, gain, f, t, true, gl2, hl2, cl2);
          }
        }
      }
    }
  }
}

function set(s: Split, gain: number, feature: number, bin: number, missingLeft: boolean, g: number, h: number, c: number): void {
  s.gain = gain;
  s.feature = feature;
  s.bin = bin;
  s.missingLeft = missingLeft;
  s.gLeft = g;
  s.hLeft = h;
  s.cLeft = c;
}
