/**
 * Field-aware feature hashing: a columnar RawBatch becomes a sparse CSR batch of hashed tokens.
 * Each schema field gives one token per row, `hashPair(fieldKey, valueCode) & mask`, where the
 * value code is the categorical hash (0 = missing, itself a token) or the numeric bin; declared
 * crosses hash two fields' codes together; a bias token ends every row. Field keys are hashes of
 * field names, so the encoding does not depend on column order. Token slots double as field ids
 * (schema fields, then crosses, then bias) for field-aware learners. The spec's `fields` (when
 * given) narrow the schema to the fields the model reads. Buffers are reused across
 * calls, so encoding allocates nothing once they have grown to the batch size.
 */
import { fmix32, hashPair, hashString, mixH, PctrError } from '../../core/index.ts';
import type { FeatureSchema, RawBatch } from '../../core/index.ts';
import { log2Bin, quantileBin } from './bins.ts';
import { selectFields, type EncodingSpec } from './encoding-spec.ts';

/** Sparse rows in CSR form. Views into the encoder's buffers: valid until its next encode call. */
export interface EncodedBatch {
  readonly n: number;
  /** Row r's tokens are [offsets[r], offsets[r + 1]). */
  readonly offsets: Int32Array;
  /** Hash bucket per token, in [0, 2^bits). */
  readonly indices: Int32Array;
  readonly values: Float32Array;
  /** Field id per token (see FeatureEncoder.fieldCount). */
  readonly fields: Uint16Array;
  readonly labels: Uint8Array | undefined;
}

const FIELD_SEED = 0x5f3759df;
const BIAS_KEY = hashString('\u0000bias', FIELD_SEED) | 0;

export class FeatureEncoder {
  readonly spec: EncodingSpec;
  readonly schema: FeatureSchema;
  /** Tokens per row: schema fields, crosses, bias. */
  readonly width: number;
  /** Field ids are 0..fieldCount−1; the last one is the bias. */
  readonly fieldCount: number;
  readonly biasField: number;
  readonly mask: number;
  readonly biasIndex: number;
  private readonly keys: Int32Array;
  private readonly crossFields: Int32Array;
  private readonly boundaries: (Float64Array | null)[];
  /**
   * A quantile field whose bins are not fitted yet: a learner is made before its fit computes them
   * (and swaps the encoding), so only encoding rows with it is refused.
   */
  private readonly unfitted: string | null;
  private readonly numeric: boolean[];
  private readonly columnMaps = new WeakMap<FeatureSchema, Int32Array>();
  private codes: (Int32Array | null)[] = [];
  private capacity = 0;
  private indices = new Int32Array(0);
  private readonly out: { -readonly [K in keyof EncodedBatch]: EncodedBatch[K] } = {
    n: 0,
    offsets: new Int32Array(1),
    indices: this.indices,
    values: new Float32Array(0),
    fields: new Uint16Array(0),
    labels: undefined,
  };

  constructor(schema: FeatureSchema, spec: EncodingSpec) {
    // The encoder reads only the fields the spec selects; the rest of a batch's columns are ignored.
    const fields = selectFields(schema.fields, spec.fields);
    if (fields.length === 0 && spec.fields !== undefined && spec.fields.length > 0) {
      throw new PctrError('PCTR_VALIDATION', `fields ${spec.fields.join(',')} select no field of the schema`);
    }
    this.schema = fields.length === schema.fields.length ? schema : { fields };
    schema = this.schema;
    this.spec = spec;
    const names = schema.fields.map((f) => f.name);
    const fieldIndex = (name: string): number => {
      const i = names.indexOf(name);
      if (i < 0) throw new PctrError('PCTR_VALIDATION', `cross ${name} names no field of the schema (fields: ${names.join(', ')})`);
      return i;
    };
    this.crossFields = Int32Array.from(spec.crosses.flatMap(([a, b]) => [fieldIndex(a), fieldIndex(b)]));
    this.keys = Int32Array.from([
      ...names.map((n) => hashString(n, FIELD_SEED) | 0),
      ...spec.crosses.map(([a, b]) => hashString(`${a}\u0000${b}`, FIELD_SEED) | 0),
    ]);
    this.numeric = schema.fields.map((f) => f.kind === 'numeric');
    const quantile = schema.fields.filter((f) => f.kind === 'numeric' && spec.numeric === 'quantile');
    this.unfitted = quantile.find((f) => !spec.boundaries?.[f.name])?.name ?? null;
    this.boundaries = schema.fields.map((f) => {
      const b = quantile.includes(f) ? spec.boundaries?.[f.name] : undefined;
      return b ? Float64Array.from(b) : null;
    });
    this.width = names.length + spec.crosses.length + 1;
    this.fieldCount = this.width;
    this.biasField = this.width - 1;
    this.mask = (1 << spec.bits) - 1;
    this.biasIndex = hashPair(BIAS_KEY, 0) & this.mask;
  }

  get dimension(): number {
    return this.mask + 1;
  }

  encode(batch: RawBatch): EncodedBatch {
    if (this.unfitted !== null) throw new PctrError('PCTR_VALIDATION', `quantile bins of numeric field ${this.unfitted} are not fitted`);
    const n = batch.n;
    if (n > this.capacity) this.grow(n);
    const map = this.columnMap(batch.schema);
    const width = this.width;
    const mask = this.mask;
    const indices = this.indices;
    const nFields = this.schema.fields.length;
    for (let f = 0; f < nFields; f++) {
      // hashPair(key, v) with the key's round done once per field rather than once per row.
      const keyed = mixH(0, this.keys[f]);
      const codes = this.codes[f];
      const col = batch.columns[map[f]];
      if (this.numeric[f]) {
        const bounds = this.boundaries[f];
        const rateBins = this.spec.rateBins ?? 0;
        for (let r = 0, o = f; r < n; r++, o += width) {
          const code = bounds === null ? log2Bin(col[r], rateBins) : quantileBin(col[r], bounds);
          if (codes !== null) codes[r] = code;
          indices[o] = fmix32(mixH(keyed, code) ^ 8) & mask;
        }
      } else {
        const cat = col as Int32Array;
        for (let r = 0, o = f; r < n; r++, o += width) {
          if (codes !== null) codes[r] = cat[r];
          indices[o] = fmix32(mixH(keyed, cat[r]) ^ 8) & mask;
        }
      }
    }
    for (let c = 0; c < this.spec.crosses.length; c++) {
      const a = this.codes[this.crossFields[2 * c]]!;
      const b = this.codes[this.crossFields[2 * c + 1]]!;
      const key = this.keys[nFields + c];
      for (let r = 0, o = nFields + c; r < n; r++, o += width) indices[o] = hashPair(key, hashPair(a[r], b[r])) & mask;
    }
    const bias = this.biasIndex;
    for (let r = 0, o = width - 1; r < n; r++, o += width) indices[o] = bias;
    const out = this.out;
    out.n = n;
    out.labels = batch.labels;
    return out;
  }

  /** Batch column of each schema field, by name; cached per batch schema object. */
  private columnMap(schema: FeatureSchema): Int32Array {
    let map = this.columnMaps.get(schema);
    if (map !== undefined) return map;
    map = Int32Array.from(this.schema.fields, (f) => {
      const i = schema.fields.findIndex((g) => g.name === f.name);
      if (i < 0) throw new PctrError('PCTR_VALIDATION', `the batch has no field ${f.name}, which the model reads`);
      if (schema.fields[i].kind !== f.kind) {
        throw new PctrError('PCTR_VALIDATION', `field ${f.name} is ${schema.fields[i].kind} in the batch but ${f.kind} in the model`);
      }
      return i;
    });
    this.columnMaps.set(schema, map);
    return map;
  }

  private grow(n: number): void {
    const cap = Math.max(n, this.capacity * 2, 256);
    const w = this.width;
    this.indices = new Int32Array(cap * w);
    this.out.indices = this.indices;
    this.out.offsets = Int32Array.from({ length: cap + 1 }, (_, r) => r * w);
    this.out.values = new Float32Array(cap * w).fill(1);
    this.out.fields = Uint16Array.from({ length: cap * w }, (_, i) => i % w);
    const crossed = new Set(this.crossFields);
    this.codes = this.schema.fields.map((_, f) => (crossed.has(f) ? new Int32Array(cap) : null));
    this.capacity = cap;
  }
}
