import { describe, expect, it } from 'vitest';
import { EmbeddingTable } from './embeddings.ts';
import { AdaGrad, FtrlStep, SparseGradient } from './optimizers.ts';

describe('AdaGrad', () => {
  it('takes torch.optim.Adagrad steps: g += l2·w, G += g², w −= lr·g/(√G + eps)', () => {
    const opt = new AdaGrad({ lr: 0.1, l2: 0.5, initialAccumulator: 1 });
    const w = Float32Array.of(2);
    const state = Float32Array.of(...opt.initialState);
    opt.step(w, 0, state, 0, 1, 0.3);
    const g = 0.3 + 0.5 * 2;
    expect(state[0]).toBeCloseTo(1 + g * g, 6);
    expect(w[0]).toBeCloseTo(2 - (0.1 * g) / Math.sqrt(1 + g * g), 6);
  });
});

describe('FtrlStep', () => {
  it('keeps the FTRL-Proximal weight materialized after each step (McMahan et al. 2013)', () => {
    const p = { alpha: 0.2, beta: 1, l1: 0.05, l2: 0.3 };
    const opt = new FtrlStep(p);
    const w = new Float32Array(1);
    const state = new Float32Array(2);
    let z = 0;
    let n = 0;
    for (const g of [0.4, -0.1, 0.7, 0.2, -0.05]) {
      const wRef = Math.abs(z) <= p.l1 ? 0 : -(z - Math.sign(z) * p.l1) / ((p.beta + Math.sqrt(n)) / p.alpha + p.l2);
      expect(w[0]).toBeCloseTo(wRef, 6);
      const sigma = (Math.sqrt(n + g * g) - Math.sqrt(n)) / p.alpha;
      z += g - sigma * wRef;
      n += g * g;
      opt.step(w, 0, state, 0, 1, g);
    }
    expect(state[0]).toBeCloseTo(z, 5);
    expect(state[1]).toBeCloseTo(n, 5);
    expect(w[0]).not.toBe(0);
  });
});

describe('SparseGradient', () => {
  it('sums a mini-batch per row and applies one scaled step per touched row', () => {
    const table = new EmbeddingTable(100, 2, { init: { kind: 'zero', scale: 0 }, seed: 1, initialState: [0] });
    const sum = new SparseGradient(table);
    const opt = new AdaGrad({ lr: 1 });
    for (const [row, g] of [[7, 1], [3, 2], [7, 3]] as const) {
      const at = sum.row(row);
      sum.grad[at] += g;
      sum.grad[at + 1] -= g;
    }
    expect(sum.size).toBe(2);
    sum.apply(table, opt, 0.5);
    // Row 7: one step with (1 + 3)·0.5 = 2 on its first coordinate, −2 on its second: AdaGrad moves each by lr.
    expect(Array.from(table.data.subarray(table.offset(7), table.offset(7) + 4))).toEqual([-1, 1, 4, 4]);
    expect(Array.from(table.data.subarray(table.offset(3), table.offset(3) + 4))).toEqual([-1, 1, 1, 1]);
    expect(sum.size).toBe(0);
    // The next batch starts from zero sums.
    sum.grad[sum.row(7)] += 1;
    expect(sum.grad[sum.row(7) + 1]).toBe(0);
  });
});
