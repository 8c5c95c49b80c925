/**
 * Turns a RawBatch into an ONNX model's input arrays as its feature spec says: pctr's token ids of
 * the listed fields (int64 as little-endian word pairs, or int32) and numeric fields (float32,
 * optionally log1p, missing → a constant). Plain typed arrays with their shapes, so the fixture
 * generator writes exactly what the model is fed.
 */
import { PctrError } from '../../core/index.ts';
import type { FeatureSchema, RawBatch } from '../../core/index.ts';
import { FeatureEncoder } from '../encoding/encoder.ts';
import { tokenEncoding, type OnnxFeatureSpec } from './feature-spec.ts';

export interface Feed {
  readonly name: string;
  readonly dtype: 'int64' | 'int32' | 'float32';
  /** int64: BigInt64Array; int32: Int32Array; float32: Float32Array — rows × width, row-major. */
  readonly data: BigInt64Array | Int32Array | Float32Array;
  readonly dims: [number, number];
}

type InputPlan =
  | { readonly kind: 'tokens'; readonly name: string; readonly slots: Int32Array; readonly dtype: 'int64' | 'int32' }
  | { readonly kind: 'numeric'; readonly name: string; readonly fields: Int32Array; readonly log1p: boolean; readonly missing: number };

export class FeedBuilder {
  readonly encoder: FeatureEncoder;
  private readonly schema: FeatureSchema;
  private readonly plan: InputPlan[];
  private readonly columnMaps = new WeakMap<FeatureSchema, Int32Array>();

  constructor(spec: OnnxFeatureSpec) {
    this.schema = spec.schema;
    this.encoder = new FeatureEncoder(spec.schema, tokenEncoding(spec));
    const position = (name: string): number => spec.schema.fields.findIndex((f) => f.name === name);
    this.plan = spec.inputs.map((input) =>
      input.kind === 'tokens'
        ? { kind: 'tokens', name: input.name, slots: Int32Array.from(input.fields, position), dtype: input.dtype }
        : { kind: 'numeric', name: input.name, fields: Int32Array.from(input.fields, position), log1p: input.transform === 'log1p', missing: input.missing },
    );
  }

  /** Fresh arrays per call: ONNX Runtime reads them after an await, while another request may be building its own. */
  build(batch: RawBatch): Feed[] {
    const n = batch.n;
    const enc = this.encoder.encode(batch);
    return this.plan.map((p): Feed => {
      if (p.kind === 'tokens') {
        const width = p.slots.length;
        // int64 little-endian: the low word is the token id (< 2^26), the high word stays 0.
        const step = p.dtype === 'int64' ? 2 : 1;
        const ids = new Int32Array(step * n * width);
        for (let r = 0; r < n; r++) {
          const base = enc.offsets[r];
          for (let j = 0; j < width; j++) ids[(r * width + j) * step] = enc.indices[base + p.slots[j]];
        }
        return { name: p.name, dtype: p.dtype, data: p.dtype === 'int64' ? new BigInt64Array(ids.buffer) : ids, dims: [n, width] };
      }
      const width = p.fields.length;
      const values = new Float32Array(n * width);
      const map = this.columnMap(batch.schema);
      for (let j = 0; j < width; j++) {
        const col = batch.columns[map[p.fields[j]]];
        for (let r = 0; r < n; r++) {
          const v = col[r];
          values[r * width + j] = Number.isNaN(v) ? p.missing : p.log1p ? Math.log1p(v > 0 ? v : 0) : v;
        }
      }
      return { name: p.name, dtype: 'float32', data: values, dims: [n, width] };
    });
  }

  /** Batch column of each spec field, by name; cached per batch schema. */
  private columnMap(schema: FeatureSchema): Int32Array {
    let map = this.columnMaps.get(schema);
    if (map !== undefined) return map;
    map = Int32Array.from(this.schema.fields, (f) => {
      const i = schema.fields.findIndex((g) => g.name === f.name && g.kind === f.kind);
      if (i < 0) throw new PctrError('PCTR_VALIDATION', `the batch has no ${f.kind} field ${f.name}, which the onnx model reads`);
      return i;
    });
    this.columnMaps.set(schema, map);
    return map;
  }
}
