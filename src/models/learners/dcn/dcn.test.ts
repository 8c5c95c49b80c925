import { describe, expect, it } from 'vitest';
import { modelContract } from '../../../../test/contracts/model.contract.ts';
import { sourceOf, SYNTHETIC_SCHEMA, syntheticBatch } from '../../../../test/helpers/synthetic-ctr.ts';
import { encodeArtifact, loadModel } from '../../index.ts';
import { createLearner } from '../../factory.ts';
import { DcnLearner } from './dcn.ts';

const SMALL = { bits: 16, batchSize: 64, lr: 0.003 };

modelContract('dcn (low-rank cross, 2 threads)', (schema) => createLearner('dcn', { ...SMALL, threads: 2 }, schema));
modelContract('dcn (full-rank cross, 1 thread)', (schema) => createLearner('dcn', { ...SMALL, crossRank: 0, threads: 1, hidden: '32' }, schema));

describe('DcnLearner', () => {
  const train = syntheticBatch(6000, 31);
  const test = syntheticBatch(2000, 32);
  const scores = (m: DcnLearner): Float32Array => {
    const out = new Float32Array(test.n);
    m.predict(test, out);
    return out;
  };

  it('learns the same model on 1 and 2 threads, up to float summation order', async () => {
    const [one, two] = [1, 2].map((threads) => createLearner('dcn', { ...SMALL, threads }, SYNTHETIC_SCHEMA) as DcnLearner);
    await one.fit(sourceOf(train, 500));
    await two.fit(sourceOf(train, 500));
    const a = scores(one);
    const b = scores(two);
    let max = 0;
    for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
    expect(max).toBeLessThan(1e-4);
    expect(a).not.toEqual(new Float32Array(test.n).fill(a[0]));
  });

  it('runs its dense math on the WASM SIMD kernel and keeps training after a save and load', async () => {
    const m = createLearner('dcn', { ...SMALL, threads: 1 }, SYNTHETIC_SCHEMA) as DcnLearner;
    expect(m.backend).toBe('wasm-simd');
    await m.fit(sourceOf(train, 500));
    const loaded = loadModel(encodeArtifact(m.toArtifact())) as DcnLearner;
    const before = scores(loaded);
    await loaded.fit(sourceOf(syntheticBatch(3000, 33), 500));
    const after = scores(loaded);
    expect(after).not.toEqual(before);
    expect(Math.max(...after)).toBeLessThan(1);
  });

  it('parses hidden widths from the command line and refuses bad ones', () => {
    const m = createLearner('dcn', { hidden: '16, 8', threads: '1', bits: '12' }, SYNTHETIC_SCHEMA) as DcnLearner;
    expect(m.params.hidden).toEqual([16, 8]);
    expect(createLearner('dcn', { hidden: '', threads: 1, bits: 12 }, SYNTHETIC_SCHEMA)).toBeInstanceOf(DcnLearner);
    expect(() => createLearner('dcn', { hidden: '16;8' }, SYNTHETIC_SCHEMA)).toThrow(/invalid dcn parameters: hidden/);
    expect(() => createLearner('dcn', { crossRank: -1 }, SYNTHETIC_SCHEMA)).toThrow(/crossRank/);
  });
});
