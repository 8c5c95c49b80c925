/**
 * Checks FM and FFM share (run from their test files): the WASM kernels learn the same model as the
 * plain reference (online and in mini-batches), the step they take is the logloss gradient (finite
 * differences through scoring), unseen features contribute nothing, and artifacts hold only the
 * factor rows training touched.
 */
import { expect, it } from 'vitest';
import type { RawBatch } from '../../src/core/index.ts';
import type { FactorizationModel, FactorizationParams } from '../../src/models/learners/factorization.ts';
import type { ReferenceFactorization } from './factorization-reference.ts';
import { sourceOf, SYNTHETIC_SCHEMA, syntheticBatch } from './synthetic-ctr.ts';
import { hashCategory } from '../../src/core/index.ts';

type Make = (params: Record<string, unknown>) => FactorizationModel;
type MakeReference = (p: FactorizationParams, m: FactorizationModel) => ReferenceFactorization;

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

export function factorizationChecks(kind: 'fm' | 'ffm', make: Make, reference: MakeReference): void {
  for (const batchSize of [1, 16]) {
    it(`learns the same model as the plain reference${batchSize > 1 ? ' in mini-batches' : ' online'}`, () => {
      const m = make({ dim: 8, lr: 0.1, l2: 0.01, l2Linear: 0.001, initialAccumulator: 0.1, init: 'uniform', initScale: 0.2, batchSize, bits: 20 });
      const ref = reference(m.params, m);
      const train = m.encoder.encode(syntheticBatch(1500, 31));
      ref.learn(train);
      m.learnEncoded(train);
      const test = m.encoder.encode(syntheticBatch(300, 32));
      const out = new Float32Array(test.n);
      m.scoreEncoded(test, out);
      let worst = 0;
      for (let r = 0; r < test.n; r++) worst = Math.max(worst, Math.abs(out[r] - sigmoid(ref.logit(test, r))));
      expect(worst).toBeLessThan(2e-4);
      // The model moved away from its start: the comparison is not between two untrained models.
      expect(new Set(out).size).toBeGreaterThan(20);
    });
  }

  it('steps along the logloss gradient (finite differences through scoring)', async () => {
    const lr = 0.01;
    const m = make({ dim: 4, lr, l2: 0, initialAccumulator: 1, init: 'uniform', initScale: 0.3, bits: 16 });
    await m.fit(sourceOf(syntheticBatch(300, 5)));
    const row = m.encoder.encode(syntheticBatch(1, 6));
    const enc = { ...row, offsets: row.offsets.slice(0, 2), indices: row.indices.slice(), values: row.values.slice(), fields: row.fields.slice(), labels: Uint8Array.of(1) };
    const table = m.factors.data;
    const loss = (): number => {
      const p = new Float32Array(1);
      m.scoreEncoded(enc, p);
      return -Math.log(p[0]);
    };
    const before = Float32Array.from(table);
    m.learnEncoded(enc);
    const after = Float32Array.from(table);
    table.set(before);
    const { dim, rows } = m.factors;
    let checked = 0;
    for (let r = 0; r < rows * dim; r++) {
      // Weight c of row ⌊r / dim⌋, its AdaGrad sum at `sum` (wherever the table's layout puts it).
      const [row, c] = [Math.floor(r / dim), r % dim];
      const i = m.factors.offset(row) + c;
      const sum = m.factors.stateOffset(row) + c;
      if (after[i] === before[i]) continue;
      // AdaGrad's step inverted: g = Δw · (√G + eps) / lr, with G read after the step.
      const g = ((before[i] - after[i]) * (Math.sqrt(after[sum]) + 1e-10)) / lr;
      const eps = 1e-3;
      table[i] = before[i] + eps;
      const up = loss();
      table[i] = before[i] - eps;
      const down = loss();
      table[i] = before[i];
      expect(Math.abs(g - (up - down) / (2 * eps))).toBeLessThan(2e-3 * Math.max(1, Math.abs(g)));
      checked++;
    }
    // FM moves a vector per non-bias token (3), FFM one per token and partner field (3 · 2).
    expect(checked).toBe((kind === 'fm' ? 3 : 6) * dim);
  });

  it('gives unseen features no say: rows differing only in unseen values score the same', async () => {
    const m = make({ epochs: 2 });
    await m.fit(sourceOf(syntheticBatch(3000, 8)));
    const batch: RawBatch = {
      n: 2,
      schema: SYNTHETIC_SCHEMA,
      columns: [Int32Array.of(hashCategory('never-ad-1'), hashCategory('never-ad-2')), Int32Array.of(hashCategory('s1'), hashCategory('s1')), Float32Array.of(3, 3)],
    };
    const out = new Float32Array(2);
    m.predict(batch, out);
    expect(out[0]).toBe(out[1]);
  });

  it('stores only the factor rows training touched', async () => {
    const m = make({});
    await m.fit(sourceOf(syntheticBatch(2000, 9)));
    const { factorsIndex, linearIndex } = m.toArtifact().tensors;
    expect(factorsIndex.length).toBeGreaterThan(0);
    expect(factorsIndex.length).toBeLessThan(m.factors.rows / 100);
    expect(linearIndex.length).toBeLessThan(200);
  });
}
