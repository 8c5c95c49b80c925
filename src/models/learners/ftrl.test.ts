import { describe, expect, it } from 'vitest';
import { modelContract } from '../../../test/contracts/model.contract.ts';
import { sourceOf, SYNTHETIC_SCHEMA, syntheticBatch } from '../../../test/helpers/synthetic-ctr.ts';
import type { EncodedBatch } from '../encoding/encoder.ts';
import { createLearner } from '../factory.ts';
import { FtrlLearner, FtrlParams } from './ftrl.ts';

modelContract('ftrl', (schema) => createLearner('ftrl', { l1: 0.1, epochs: 2, shuffleWindow: 4096 }, schema));

const logloss1 = (dot: number, y: number): number => {
  const p = 1 / (1 + Math.exp(-dot));
  return -(y ? Math.log(p) : Math.log(1 - p));
};

/** McMahan et al. 2013, Algorithm 1, per coordinate in doubles, written as plainly as possible. */
class ReferenceFtrl {
  readonly z = new Map<number, number>();
  readonly n = new Map<number, number>();
  constructor(private readonly p: FtrlParams) {}

  weight(i: number): number {
    const z = this.z.get(i) ?? 0;
    const n = this.n.get(i) ?? 0;
    if (Math.abs(z) <= this.p.l1) return 0;
    return -(z - Math.sign(z) * this.p.l1) / ((this.p.beta + Math.sqrt(n)) / this.p.alpha + this.p.l2);
  }

  learn(indices: number[], y: number): void {
    const w = indices.map((i) => this.weight(i));
    const dot = w.reduce((s, wi) => s + wi, 0);
    const p = 1 / (1 + Math.exp(-Math.max(-35, Math.min(35, dot))));
    indices.forEach((i, k) => {
      const g = p - y;
      const n = this.n.get(i) ?? 0;
      const sigma = (Math.sqrt(n + g * g) - Math.sqrt(n)) / this.p.alpha;
      this.z.set(i, (this.z.get(i) ?? 0) + g - sigma * w[k]);
      this.n.set(i, n + g * g);
    });
  }
}

describe('FtrlLearner', () => {
  it('learns the same weights as a plain reference implementation of the paper', async () => {
    const params = FtrlParams.parse({ alpha: 0.1, beta: 1, l1: 0.5, l2: 0.3, bits: 22 });
    const data = syntheticBatch(3000, 5);
    const learner = new FtrlLearner(SYNTHETIC_SCHEMA, params);
    await learner.fit(sourceOf(data, 300));

    const reference = new ReferenceFtrl(params);
    const enc = learner.encoder.encode(data);
    const touched = new Set<number>();
    for (let r = 0; r < enc.n; r++) {
      const row = Array.from(enc.indices.subarray(enc.offsets[r], enc.offsets[r + 1]));
      expect(new Set(row).size).toBe(row.length);
      row.forEach((i) => touched.add(i));
      reference.learn(row, data.labels![r]);
    }
    let nonZero = 0;
    for (const i of touched) {
      const expected = reference.weight(i);
      if (expected !== 0) nonZero++;
      expect(Math.abs(learner.weight(i) - expected)).toBeLessThan(1e-4 * Math.max(1, Math.abs(expected)));
    }
    expect(nonZero).toBeGreaterThan(10);
  });

  it('takes the logloss gradient: the g its update applies matches finite differences', async () => {
    const params = FtrlParams.parse({ alpha: 0.2, l1: 0.01, l2: 0.1 });
    const learner = new FtrlLearner(SYNTHETIC_SCHEMA, params);
    await learner.fit(sourceOf(syntheticBatch(2000, 9)));
    // One row over coordinates with learned weights, with non-unit feature values.
    const trainedRow = learner.encoder.encode(syntheticBatch(1, 9));
    const indices = Int32Array.from(trainedRow.indices.subarray(0, trainedRow.offsets[1]));
    const values = Float32Array.from(indices, (_, k) => [0.5, 2, 1, 1.5][k % 4]);
    for (const y of [0, 1]) {
      const row: EncodedBatch = {
        n: 1,
        offsets: Int32Array.of(0, indices.length),
        indices,
        values,
        fields: new Uint16Array(indices.length),
        labels: Uint8Array.of(y),
      };
      const w = Array.from(indices, (i) => learner.weight(i));
      expect(w.filter((x) => x !== 0).length).toBeGreaterThan(2);
      const loss = (ws: number[]) => logloss1(ws.reduce((s, wi, k) => s + wi * values[k], 0), y);
      const scored = new Float32Array(1);
      learner.scoreEncoded(row, scored);
      expect(scored[0]).toBeCloseTo(1 / (1 + Math.exp(-w.reduce((s, wi, k) => s + wi * values[k], 0))), 6);

      const before = Array.from(indices, (i) => learner.accumulators(i));
      learner.learnEncoded(row);
      indices.forEach((i, k) => {
        const after = learner.accumulators(i);
        const sigma = (Math.sqrt(after.n) - Math.sqrt(before[k].n)) / params.alpha;
        const applied = after.z - before[k].z + sigma * w[k];
        const eps = 1e-5;
        const plus = [...w];
        const minus = [...w];
        plus[k] += eps;
        minus[k] -= eps;
        const numeric = (loss(plus) - loss(minus)) / (2 * eps);
        expect(Math.abs(applied - numeric)).toBeLessThan(1e-4 * Math.max(1, Math.abs(numeric)));
        expect(Math.sqrt(after.n - before[k].n)).toBeCloseTo(Math.abs(numeric), 3);
      });
    }
  });

  it('keeps weights sparse under L1 and checks its parameters', async () => {
    const zeros = async (l1: number): Promise<number> => {
      const learner = new FtrlLearner(SYNTHETIC_SCHEMA, FtrlParams.parse({ l1 }));
      await learner.fit(sourceOf(syntheticBatch(2000, 4)));
      const enc = learner.encoder.encode(syntheticBatch(2000, 4));
      const touched = new Set(enc.indices.subarray(0, enc.offsets[enc.n]));
      return [...touched].filter((i) => learner.weight(i) === 0).length / touched.size;
    };
    expect(await zeros(0)).toBe(0);
    expect(await zeros(10)).toBeGreaterThan(0.3);
    expect(() => createLearner('ftrl', { alpha: -1, alhpa: 2 }, SYNTHETIC_SCHEMA)).toThrow(/invalid ftrl parameters: .*alpha.*unknown parameter alhpa/);
  });
});
