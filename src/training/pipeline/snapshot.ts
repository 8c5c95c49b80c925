/**
 * The extracted training data of a run, frozen in a file so that validation, training and
 * evaluation (on whatever worker runs them, after whatever retries) all see exactly the same rows,
 * even if late examples land in the offline store meanwhile. Columnar and binary, read back as the
 * same RawBatches that were written:
 *
 *   "PCTRSNP1" | u32 L | JSON header { format, schema } (L bytes)
 *   chunks: u32 n | u32 CRC-32 of the payload | payload = labels u8[n] (padded to 8) | ts f64[n] | columns (4 bytes × n each)
 *   end: u32 0
 *
 * Written to a temporary name, fsynced and renamed, so a crashed writer leaves no half file.
 */
import { open, rename, rm } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { PctrError, type Column, type FeatureSchema, type RawBatch } from '../../core/index.ts';

const MAGIC = Buffer.from('PCTRSNP1', 'latin1');
const FORMAT = 'pctr-snapshot/1';

export interface SnapshotSummary {
  readonly rows: number;
  readonly positives: number;
  /** Event-time span of the rows (null when empty). */
  readonly minTs: number | null;
  readonly maxTs: number | null;
  readonly bytes: number;
}

const pad8 = (x: number): number => (x + 7) & ~7;

function chunkBytes(n: number, fields: number): number {
  return pad8(n) + 8 * n + 4 * n * fields;
}

function encodeChunk(batch: RawBatch): Buffer {
  const { n } = batch;
  const out = Buffer.alloc(8 + chunkBytes(n, batch.columns.length));
  out.writeUInt32LE(n, 0);
  let at = 8;
  if (!batch.labels) throw new PctrError('PCTR_DATA_INVALID', 'snapshot batches must carry labels');
  out.set(batch.labels.subarray(0, n), at);
  at += pad8(n);
  const ts = batch.ts ?? new Float64Array(n).fill(NaN);
  out.set(new Uint8Array(ts.buffer, ts.byteOffset, 8 * n), at);
  at += 8 * n;
  for (const c of batch.columns) {
    out.set(new Uint8Array(c.buffer, c.byteOffset, 4 * n), at);
    at += 4 * n;
  }
  out.writeUInt32LE(crc32(out.subarray(8)), 4);
  return out;
}

/** Writes every batch of `source` to `path`; returns row counts and the time span. */
export async function writeSnapshot(path: string, schema: FeatureSchema, source: AsyncIterable<RawBatch>): Promise<SnapshotSummary> {
  const tmp = `${path}.tmp-${process.pid}`;
  const file = await open(tmp, 'w');
  let rows = 0;
  let positives = 0;
  let minTs = Infinity;
  let maxTs = -Infinity;
  let bytes = 0;
  try {
    const header = Buffer.from(JSON.stringify({ format: FORMAT, schema: { fields: schema.fields.map((f) => ({ name: f.name, kind: f.kind })) } }), 'utf8');
    const prefix = Buffer.alloc(12);
    MAGIC.copy(prefix);
    prefix.writeUInt32LE(header.length, 8);
    await file.write(prefix);
    await file.write(header);
    bytes += prefix.length + header.length;
    for await (const batch of source) {
      if (batch.n === 0) continue;
      if (batch.columns.length !== schema.fields.length) throw new PctrError('PCTR_INTERNAL', `snapshot batch has ${batch.columns.length} columns, schema ${schema.fields.length}`);
      const chunk = encodeChunk(batch);
      await file.write(chunk);
      bytes += chunk.length;
      rows += batch.n;
      for (let i = 0; i < batch.n; i++) positives += batch.labels![i];
      if (batch.ts) {
        for (let i = 0; i < batch.n; i++) {
          const t = batch.ts[i];
          if (t < minTs) minTs = t;
          if (t > maxTs) maxTs = t;
        }
      }
    }
    await file.write(Buffer.alloc(4));
    bytes += 4;
    await file.sync();
  } catch (e) {
    await file.close();
    await rm(tmp, { force: true });
    throw e;
  }
  await file.close();
  await rename(tmp, path);
  return { rows, positives, minTs: rows && minTs <= maxTs ? minTs : null, maxTs: rows && minTs <= maxTs ? maxTs : null, bytes };
}

function corrupt(path: string, what: string): PctrError {
  return new PctrError('PCTR_DATA_INVALID', `training snapshot ${path} is corrupt: ${what}; run the pipeline again with a new run id`);
}

/** The batches of a snapshot, in the order written. */
export async function* readSnapshot(path: string): AsyncGenerator<RawBatch> {
  let file;
  try {
    file = await open(path, 'r');
  } catch (e) {
    throw new PctrError('PCTR_DATA_INVALID', `training snapshot ${path} cannot be read: ${(e as Error).message}`, { cause: e });
  }
  try {
    const prefix = Buffer.alloc(12);
    let pos = 0;
    const read = async (buf: Buffer): Promise<void> => {
      const { bytesRead } = await file.read(buf, 0, buf.length, pos);
      if (bytesRead !== buf.length) throw corrupt(path, `truncated at byte ${pos + bytesRead}`);
      pos += buf.length;
    };
    await read(prefix);
    if (!prefix.subarray(0, 8).equals(MAGIC)) throw corrupt(path, 'it does not start with the snapshot magic bytes');
    const headerBuf = Buffer.alloc(prefix.readUInt32LE(8));
    await read(headerBuf);
    let schema: FeatureSchema;
    try {
      const header = JSON.parse(headerBuf.toString('utf8')) as { format: string; schema: FeatureSchema };
      if (header.format !== FORMAT) throw new Error(`format ${header.format}`);
      schema = header.schema;
    } catch (e) {
      throw corrupt(path, `bad header (${(e as Error).message})`);
    }
    const kinds = schema.fields.map((f) => f.kind);
    const head = Buffer.alloc(8);
    for (;;) {
      await read(head.subarray(0, 4));
      const n = head.readUInt32LE(0);
      if (n === 0) return;
      await read(head.subarray(4, 8));
      const payload = Buffer.alloc(chunkBytes(n, kinds.length));
      await read(payload);
      if (crc32(payload) !== head.readUInt32LE(4)) throw corrupt(path, `checksum mismatch in the chunk ending at byte ${pos}`);
      // Copies into fresh, aligned arrays that the consumer owns.
      let at = 0;
      const labels = Uint8Array.from(payload.subarray(0, n));
      at += pad8(n);
      const ts = new Float64Array(payload.buffer.slice(payload.byteOffset + at, payload.byteOffset + at + 8 * n));
      at += 8 * n;
      const columns: Column[] = kinds.map((kind) => {
        const bytes = payload.buffer.slice(payload.byteOffset + at, payload.byteOffset + at + 4 * n);
        at += 4 * n;
        return kind === 'numeric' ? new Float32Array(bytes) : new Int32Array(bytes);
      });
      yield { n, schema, columns, labels, ts };
    }
  } finally {
    await file.close();
  }
}
