/**
 * Writes hashed feature rows as a small binary CSR file that the Python peers load with numpy, so
 * pctr and sklearn learn from identical features:
 *   "PCTRCSR1", u32 rows, u32 nnz, u32 bits, u32 0, i32 offsets[rows + 1], i32 indices[nnz], u8 labels[rows]
 * (all little-endian; every value is 1).
 */
import { open } from 'node:fs/promises';
import type { RawBatch } from '../../src/core/index.ts';
import type { FeatureEncoder } from '../../src/models/index.ts';

/** Encoded rows held in memory, as one CSR batch (for timing updates without parse/encode). */
export interface CsrRows {
  readonly n: number;
  readonly offsets: Int32Array;
  readonly indices: Int32Array;
  readonly values: Float32Array;
  readonly fields: Uint16Array;
  readonly labels: Uint8Array;
}

export async function encodeAll(encoder: FeatureEncoder, source: AsyncIterable<RawBatch>): Promise<CsrRows> {
  const offsets: number[] = [0];
  let indices = new Int32Array(1 << 20);
  let fields = new Uint16Array(1 << 20);
  let labels = new Uint8Array(1 << 16);
  let n = 0;
  let nnz = 0;
  for await (const raw of source) {
    const enc = encoder.encode(raw);
    const tokens = enc.offsets[enc.n];
    if (nnz + tokens > indices.length) {
      const grownI = new Int32Array(Math.max(nnz + tokens, indices.length * 2));
      grownI.set(indices.subarray(0, nnz));
      indices = grownI;
      const grownF = new Uint16Array(indices.length);
      grownF.set(fields.subarray(0, nnz));
      fields = grownF;
    }
    if (n + enc.n > labels.length) {
      const grown = new Uint8Array(Math.max(n + enc.n, labels.length * 2));
      grown.set(labels.subarray(0, n));
      labels = grown;
    }
    indices.set(enc.indices.subarray(0, tokens), nnz);
    fields.set(enc.fields.subarray(0, tokens), nnz);
    labels.set(enc.labels!, n);
    for (let r = 1; r <= enc.n; r++) offsets.push(nnz + enc.offsets[r]);
    n += enc.n;
    nnz += tokens;
  }
  return {
    n,
    offsets: Int32Array.from(offsets),
    indices: indices.subarray(0, nnz),
    values: new Float32Array(nnz).fill(1),
    fields: fields.subarray(0, nnz),
    labels: labels.subarray(0, n),
  };
}

export async function writeCsr(path: string, rows: CsrRows, bits: number): Promise<void> {
  const head = Buffer.alloc(24);
  head.write('PCTRCSR1', 0, 'latin1');
  head.writeUInt32LE(rows.n, 8);
  head.writeUInt32LE(rows.offsets[rows.n], 12);
  head.writeUInt32LE(bits, 16);
  const fh = await open(path, 'w');
  try {
    for (const part of [head, rows.offsets.subarray(0, rows.n + 1), rows.indices.subarray(0, rows.offsets[rows.n]), rows.labels.subarray(0, rows.n)]) {
      await fh.write(new Uint8Array(part.buffer, part.byteOffset, part.byteLength));
    }
  } finally {
    await fh.close();
  }
}
