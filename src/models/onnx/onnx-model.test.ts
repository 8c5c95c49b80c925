import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RawBatchBuilder, type RawBatch } from '../../core/index.ts';
import { encodeArtifact, isAsyncModel, loadModel } from '../index.ts';
import { parseOnnxSpec, type OnnxFeatureSpec } from './feature-spec.ts';
import { FeedBuilder } from './feeds.ts';
import { OnnxModel } from './onnx-model.ts';

const FIXTURE = new URL('../../../test/fixtures/onnx/', import.meta.url);
const read = (name: string): string => readFileSync(new URL(name, FIXTURE), 'utf8');
const spec = parseOnnxSpec(JSON.parse(read('spec.json')));
const bytes = new Uint8Array(readFileSync(new URL('deepfm.onnx', FIXTURE)));
const rows = JSON.parse(read('rows.json')) as Record<string, string | number>[];
const inputs = JSON.parse(read('inputs.json')) as { ids: number[][]; values: number[][] };
const torchScores = Float32Array.from((JSON.parse(read('pytorch-scores.json')) as { scores: number[] }).scores);

function fixtureBatch(fieldOrder = spec.schema.fields): RawBatch {
  const b = new RawBatchBuilder({ fields: fieldOrder }, rows.length);
  for (const r of rows) b.add(r);
  return b.build();
}

async function scores(model: OnnxModel, batch: RawBatch): Promise<Float32Array> {
  const out = new Float32Array(batch.n);
  await model.predictAsync(batch, out);
  return out;
}

const maxAbsDiff = (a: Float32Array, b: Float32Array): number => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);

describe('OnnxModel on the PyTorch-exported fixture', () => {
  it('feeds the model exactly the inputs PyTorch scored', () => {
    const [ids, values] = new FeedBuilder(spec).build(fixtureBatch());
    expect(ids.dims).toEqual([rows.length, 7]);
    expect(Array.from(ids.data, Number)).toEqual(inputs.ids.flat());
    expect(values.data).toEqual(Float32Array.from(inputs.values.flat()));
  });

  it("scores the fixture rows as PyTorch did (max abs diff ≤ 1e-5), missing values included", async () => {
    const model = new OnnxModel(spec, bytes);
    const out = await scores(model, fixtureBatch());
    expect(maxAbsDiff(out, torchScores)).toBeLessThanOrEqual(1e-5);
    expect(Math.max(...out) - Math.min(...out)).toBeGreaterThan(0.5);
    await model.close();
  });

  it('does not depend on column order or batch size', async () => {
    const model = new OnnxModel(spec, bytes);
    const whole = await scores(model, fixtureBatch());
    expect(await scores(model, fixtureBatch([...spec.schema.fields].reverse()))).toEqual(whole);
    const batch = fixtureBatch();
    const one = new Float32Array(batch.n);
    for (let r = 0; r < batch.n; r++) {
      await model.predictAsync({ n: 1, schema: batch.schema, columns: batch.columns.map((c) => c.subarray(r, r + 1)) }, one.subarray(r, r + 1));
    }
    expect(maxAbsDiff(one, whole)).toBeLessThanOrEqual(1e-6);
    await model.close();
  });

  it('round-trips as a pctr artifact that loadModel serves asynchronously, calibration included', async () => {
    const artifact = new OnnxModel(spec, bytes, { method: 'platt', downsampleRate: 1, platt: { a: 1, b: 0.5 } }).toArtifact();
    const encoded = encodeArtifact(artifact);
    const loaded = loadModel(encoded);
    expect(loaded.kind).toBe('onnx');
    expect(loaded.schema).toEqual(spec.schema);
    expect(isAsyncModel(loaded)).toBe(true);
    expect(encodeArtifact(loaded.toArtifact())).toEqual(encoded);
    const calibrated = await scores(loaded as OnnxModel, fixtureBatch());
    const logit = (p: number): number => Math.log(p / (1 - p));
    calibrated.forEach((p, i) => expect(logit(p)).toBeCloseTo(logit(torchScores[i]) + 0.5, 4));
    expect(() => loaded.predict(fixtureBatch(), new Float32Array(rows.length))).toThrow(expect.objectContaining({ code: 'PCTR_VALIDATION' }));
    await (loaded as OnnxModel).close();
  });

  it('fails to load, naming the problem, when the file or the spec does not fit', async () => {
    await expect(new OnnxModel(spec, Uint8Array.of(1, 2, 3)).ready()).rejects.toMatchObject({ code: 'PCTR_MODEL_LOAD_FAILED', message: expect.stringContaining('ONNX Runtime cannot load') });
    const renamed: OnnxFeatureSpec = { ...spec, inputs: spec.inputs.map((i) => (i.kind === 'numeric' ? { ...i, name: 'dense' } : i)), output: { name: 'score', kind: 'probability' } };
    await expect(new OnnxModel(renamed, bytes).ready()).rejects.toMatchObject({
      code: 'PCTR_MODEL_LOAD_FAILED',
      message: expect.stringMatching(/needs input values.*fills input dense.*no output score/),
    });
  });

  it('validates feature specs, naming every problem', () => {
    const base = JSON.parse(read('spec.json')) as Record<string, unknown>;
    expect(() => parseOnnxSpec({ ...base, inputs: [{ name: 'ids', kind: 'tokens', fields: ['nope'] }, { name: 'v', kind: 'numeric', fields: ['ad_id'] }] })).toThrow(
      /inputs\.0\.fields\.0: nope is not a field of the schema; inputs\.1\.fields\.0: ad_id is categorical/,
    );
    expect(() => parseOnnxSpec({ ...base, format: 'other' })).toThrow(expect.objectContaining({ code: 'PCTR_VALIDATION' }));
  });
});
