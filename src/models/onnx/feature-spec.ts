/**
 * The feature-spec file of an ONNX model: which raw fields it reads (the schema a RawBatch must
 * carry), how pctr encodes them, and how the encoded features fill the model's input tensors:
 *   - `tokens`: pctr's hashed token id of each listed field ([n, fields], int64 or int32), from the
 *     same field-aware hashing as pctr's learners (`encoding`), so a model trained on pctr's hashed
 *     features (the CSR files the benchmarks write) is served with exactly those features;
 *   - `numeric`: raw numeric fields ([n, fields], float32), optionally log1p(max(x, 0)), missing → `missing`.
 * The output is a click probability or a logit, [n] or [n, 1].
 * Example (test/fixtures/onnx/spec.json):
 *   { "format": "pctr-onnx-spec/1", "schema": { "fields": [{ "name": "ad_id", "kind": "categorical" }, …] },
 *     "encoding": { "bits": 12 }, "inputs": [{ "name": "ids", "kind": "tokens", "fields": ["ad_id", …] },
 *     { "name": "values", "kind": "numeric", "fields": ["ad_ctr_24h"], "transform": "raw" }],
 *     "output": { "name": "prob", "kind": "probability" } }
 */
import { z } from 'zod';
import { PctrError } from '../../core/index.ts';
import { EncodingParams, encodingSpecOf, type EncodingSpec } from '../encoding/encoding-spec.ts';

const Field = z.strictObject({ name: z.string().min(1), kind: z.enum(['categorical', 'numeric']) });

const TokensInput = z.strictObject({
  name: z.string().min(1),
  kind: z.literal('tokens'),
  /** Schema field names, in the order of the tensor's second axis. */
  fields: z.array(z.string().min(1)).min(1),
  dtype: z.enum(['int64', 'int32']).default('int64'),
});

const NumericInput = z.strictObject({
  name: z.string().min(1),
  kind: z.literal('numeric'),
  fields: z.array(z.string().min(1)).min(1),
  transform: z.enum(['raw', 'log1p']).default('raw'),
  /** Value fed for a missing (NaN) entry. */
  missing: z.number().default(0),
});

export const OnnxFeatureSpec = z
  .strictObject({
    format: z.literal('pctr-onnx-spec/1'),
    schema: z.strictObject({ fields: z.array(Field).min(1) }),
    /** pctr's encoder settings for `tokens` inputs (bits, numeric binning, crosses). */
    encoding: EncodingParams.partial().default({}),
    inputs: z.array(z.discriminatedUnion('kind', [TokensInput, NumericInput])).min(1),
    output: z.strictObject({ name: z.string().min(1), kind: z.enum(['probability', 'logit']).default('probability') }),
  })
  .superRefine((spec, ctx) => {
    const kinds = new Map(spec.schema.fields.map((f) => [f.name, f.kind]));
    if (kinds.size !== spec.schema.fields.length) ctx.addIssue({ code: 'custom', path: ['schema', 'fields'], message: 'field names must be unique' });
    spec.inputs.forEach((input, i) => {
      input.fields.forEach((name, j) => {
        const kind = kinds.get(name);
        if (kind === undefined) ctx.addIssue({ code: 'custom', path: ['inputs', i, 'fields', j], message: `${name} is not a field of the schema` });
        else if (input.kind === 'numeric' && kind !== 'numeric') ctx.addIssue({ code: 'custom', path: ['inputs', i, 'fields', j], message: `${name} is categorical; numeric inputs take numeric fields` });
      });
    });
    if (new Set(spec.inputs.map((x) => x.name)).size !== spec.inputs.length) ctx.addIssue({ code: 'custom', path: ['inputs'], message: 'input names must be unique' });
  });
export type OnnxFeatureSpec = z.output<typeof OnnxFeatureSpec>;
export type OnnxInputSpec = OnnxFeatureSpec['inputs'][number];

/** Parses a spec (e.g. JSON.parse of the file); PCTR_VALIDATION naming every problem. */
export function parseOnnxSpec(raw: unknown, what = 'ONNX feature spec'): OnnxFeatureSpec {
  const r = OnnxFeatureSpec.safeParse(raw);
  if (r.success) return r.data;
  const problems = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  throw new PctrError('PCTR_VALIDATION', `${what} is invalid: ${problems.join('; ')}`, { details: { problems } });
}

/** The encoder spec for the spec's token inputs (pctr's defaults for what it leaves out). */
export function tokenEncoding(spec: OnnxFeatureSpec): EncodingSpec {
  return encodingSpecOf(EncodingParams.parse(spec.encoding));
}
