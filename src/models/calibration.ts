/**
 * Post-hoc calibration, applied by every model's predict after its raw score: first the correction
 * for negative downsampling at rate w, q = p / (p + (1 − p) / w) (He et al. 2014), then an optional
 * map fitted on a held-out slice: Platt scaling (a logistic curve on the logit) or isotonic
 * regression (pool-adjacent-violators, interpolated linearly between knots, as sklearn does).
 */
import { z } from 'zod';
import { PctrError } from '../core/index.ts';
import type { Scores } from './metrics/metrics.ts';

export const CALIBRATION_METHODS = ['none', 'platt', 'isotonic'] as const;
export type CalibrationMethod = (typeof CALIBRATION_METHODS)[number];

/** Stored in the artifact header (`calibration`). */
export const CalibrationSpec = z.strictObject({
  method: z.enum(CALIBRATION_METHODS),
  /** Share of negatives kept in training (1 = none dropped). */
  downsampleRate: z.number().gt(0).max(1),
  platt: z.strictObject({ a: z.number(), b: z.number() }).optional(),
  isotonic: z.strictObject({ x: z.array(z.number()), y: z.array(z.number()) }).optional(),
});
export type CalibrationSpec = z.output<typeof CalibrationSpec>;

export const NO_CALIBRATION: CalibrationSpec = { method: 'none', downsampleRate: 1 };

const P_MIN = 1e-7;
const P_MAX = 1 - 1e-7;

export function correctDownsampling(p: number, w: number): number {
  return p / (p + (1 - p) / w);
}

function logit(p: number): number {
  const q = Math.min(Math.max(p, P_MIN), P_MAX);
  return Math.log(q / (1 - q));
}

/** Platt scaling: a, b maximizing the likelihood of y under σ(a·logit(p) + b), by Newton's method. */
export function fitPlatt(scores: Scores, labels: Uint8Array, n = scores.length): { a: number; b: number } {
  let a = 1;
  let b = 0;
  const loss = (a_: number, b_: number): number => {
    let s = 0;
    for (let i = 0; i < n; i++) {
      const t = a_ * logit(scores[i]) + b_;
      // log(1 + e^t) − y·t, computed without overflow
      s += (t > 0 ? t + Math.log1p(Math.exp(-t)) : Math.log1p(Math.exp(t))) - labels[i] * t;
    }
    return s;
  };
  let current = loss(a, b);
  for (let iter = 0; iter < 50; iter++) {
    let ga = 0;
    let gb = 0;
    let haa = 1e-9;
    let hab = 0;
    let hbb = 1e-9;
    for (let i = 0; i < n; i++) {
      const x = logit(scores[i]);
      const q = 1 / (1 + Math.exp(-(a * x + b)));
      const r = q - labels[i];
      const v = q * (1 - q);
      ga += r * x;
      gb += r;
      haa += v * x * x;
      hab += v * x;
      hbb += v;
    }
    const det = haa * hbb - hab * hab;
    const da = (hbb * ga - hab * gb) / det;
    const db = (haa * gb - hab * ga) / det;
    let step = 1;
    let next = loss(a - da, b - db);
    while (next > current && step > 1e-6) {
      step /= 2;
      next = loss(a - step * da, b - step * db);
    }
    if (next > current) break;
    a -= step * da;
    b -= step * db;
    const gain = current - next;
    current = next;
    if (gain < 1e-10 * Math.max(1, current)) break;
  }
  return { a, b };
}

/** Isotonic regression of y on p: knots (x ascending, y non-decreasing) of the pooled blocks. */
export function fitIsotonic(scores: Scores, labels: Uint8Array, n = scores.length): { x: number[]; y: number[] } {
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => scores[i] - scores[j]);
  // Blocks of pooled examples: value (mean label), weight, score range.
  const mean: number[] = [];
  const weight: number[] = [];
  const lo: number[] = [];
  const hi: number[] = [];
  for (let k = 0; k < n; ) {
    // Equal scores start as one block, so ties get one fitted value.
    const s = scores[order[k]];
    let w = 0;
    let sum = 0;
    while (k < n && scores[order[k]] === s) {
      sum += labels[order[k++]];
      w++;
    }
    mean.push(sum / w);
    weight.push(w);
    lo.push(s);
    hi.push(s);
    while (mean.length > 1 && mean[mean.length - 2] >= mean[mean.length - 1]) {
      const m2 = mean.pop()!;
      const w2 = weight.pop()!;
      const h2 = hi.pop()!;
      lo.pop();
      const top = mean.length - 1;
      mean[top] = (mean[top] * weight[top] + m2 * w2) / (weight[top] + w2);
      weight[top] += w2;
      hi[top] = h2;
    }
  }
  const x: number[] = [];
  const y: number[] = [];
  for (let b = 0; b < mean.length; b++) {
    const v = Math.min(Math.max(mean[b], P_MIN), P_MAX);
    x.push(lo[b]);
    y.push(v);
    if (hi[b] > lo[b]) {
      x.push(hi[b]);
      y.push(v);
    }
  }
  return { x, y };
}

/** Applies a CalibrationSpec to raw model probabilities in place. */
export class Calibrator {
  readonly spec: CalibrationSpec;
  private readonly x: Float64Array;
  private readonly y: Float64Array;

  constructor(spec: CalibrationSpec) {
    const parsed = CalibrationSpec.safeParse(spec);
    if (!parsed.success) throw new PctrError('PCTR_VALIDATION', `invalid calibration: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
    if (spec.method === 'platt' && !spec.platt) throw new PctrError('PCTR_VALIDATION', 'platt calibration needs its coefficients a and b');
    if (spec.method === 'isotonic' && (!spec.isotonic || spec.isotonic.x.length === 0 || spec.isotonic.x.length !== spec.isotonic.y.length)) {
      throw new PctrError('PCTR_VALIDATION', 'isotonic calibration needs knots x and y of equal, non-zero length');
    }
    this.spec = spec;
    this.x = Float64Array.from(spec.isotonic?.x ?? []);
    this.y = Float64Array.from(spec.isotonic?.y ?? []);
  }

  apply(out: Float32Array, n: number): void {
    const w = this.spec.downsampleRate;
    if (w !== 1) for (let i = 0; i < n; i++) out[i] = correctDownsampling(out[i], w);
    switch (this.spec.method) {
      case 'none':
        return;
      case 'platt': {
        const { a, b } = this.spec.platt!;
        for (let i = 0; i < n; i++) out[i] = 1 / (1 + Math.exp(-(a * logit(out[i]) + b)));
        return;
      }
      case 'isotonic':
        for (let i = 0; i < n; i++) out[i] = this.interpolate(out[i]);
        return;
    }
  }

  private interpolate(p: number): number {
    const x = this.x;
    const y = this.y;
    const last = x.length - 1;
    if (p <= x[0]) return y[0];
    if (p >= x[last]) return y[last];
    let lo = 0;
    let hi = last;
    while (hi - lo > 1) {
      const mid = (lo + hi) >>> 1;
      if (x[mid] <= p) lo = mid;
      else hi = mid;
    }
    const span = x[hi] - x[lo];
    return span > 0 ? y[lo] + ((p - x[lo]) / span) * (y[hi] - y[lo]) : y[hi];
  }
}

/** Fits the chosen method on held-out (score, label) pairs; scores already downsampling-corrected. */
export function fitCalibration(method: CalibrationMethod, scores: Scores, labels: Uint8Array, downsampleRate: number): CalibrationSpec {
  switch (method) {
    case 'none':
      return { method, downsampleRate };
    case 'platt':
      return { method, downsampleRate, platt: fitPlatt(scores, labels) };
    case 'isotonic':
      return { method, downsampleRate, isotonic: fitIsotonic(scores, labels) };
  }
}
