import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../test/helpers/synthetic-ctr.ts';
import { Calibrator, correctDownsampling, fitCalibration, fitIsotonic, fitPlatt } from './calibration.ts';
import { logloss } from './metrics/metrics.ts';

describe('calibration', () => {
  it('corrects negative downsampling: q = p / (p + (1 − p) / w)', () => {
    expect(correctDownsampling(0.5, 0.1)).toBeCloseTo(0.5 / (0.5 + 0.5 / 0.1), 15);
    expect(correctDownsampling(0.3, 1)).toBeCloseTo(0.3, 15);
    // Keeping 1 negative in 10 turns a true 1% CTR into about 9.2%; the correction undoes it.
    const trained = 0.01 / (0.01 + 0.99 * 0.1);
    expect(correctDownsampling(trained, 0.1)).toBeCloseTo(0.01, 12);
  });

  it('Platt scaling recovers a known distortion of the logit', () => {
    const rand = seededRandom(3);
    const n = 20_000;
    const scores = new Float64Array(n);
    const labels = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const t = rand() * 6 - 3;
      scores[i] = 1 / (1 + Math.exp(-t));
      labels[i] = rand() < 1 / (1 + Math.exp(-(0.5 * t - 1))) ? 1 : 0;
    }
    const { a, b } = fitPlatt(scores, labels);
    expect(a).toBeCloseTo(0.5, 1);
    expect(b).toBeCloseTo(-1, 1);
    const calibrated = Float32Array.from(scores);
    new Calibrator({ method: 'platt', downsampleRate: 1, platt: { a, b } }).apply(calibrated, n);
    expect(logloss(calibrated, labels)).toBeLessThan(logloss(scores, labels));
  });

  it('isotonic regression pools adjacent violators, ties pooled first', () => {
    const fit = fitIsotonic(Float64Array.from([0.1, 0.2, 0.3, 0.4, 0.5, 0.5]), Uint8Array.from([0, 1, 0, 1, 1, 0]));
    // Blocks: 0.1 → 0; {0.2, 0.3} → 0.5; 0.4 → 1 then {0.4, 0.5, 0.5} → 2/3.
    expect(fit.x).toEqual([0.1, 0.2, 0.3, 0.4, 0.5]);
    expect(fit.y.map((v) => Math.round(v * 1e6) / 1e6)).toEqual([1e-7, 0.5, 0.5, 0.666667, 0.666667].map((v) => Math.round(v * 1e6) / 1e6));
    const c = new Calibrator({ method: 'isotonic', downsampleRate: 1, isotonic: fit });
    const out = Float32Array.from([0.05, 0.25, 0.35, 0.45, 0.9]);
    c.apply(out, out.length);
    expect(Array.from(out).map((v) => Math.round(v * 1e4) / 1e4)).toEqual([0, 0.5, 0.5833, 0.6667, 0.6667]);
  });

  it('applies the downsampling correction before the fitted map, and rejects incomplete specs', () => {
    const out = Float32Array.from([0.5]);
    new Calibrator({ method: 'none', downsampleRate: 0.25 }).apply(out, 1);
    expect(out[0]).toBeCloseTo(0.2, 6);
    expect(() => new Calibrator({ method: 'platt', downsampleRate: 1 })).toThrow(/coefficients/);
    expect(() => new Calibrator({ method: 'none', downsampleRate: 0 })).toThrow(/invalid calibration/);
    expect(fitCalibration('none', new Float64Array(0), new Uint8Array(0), 0.5)).toEqual({ method: 'none', downsampleRate: 0.5 });
  });
});
