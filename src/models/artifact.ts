/**
 * The model artifact file: one binary blob that round-trips exactly.
 *
 *   0  magic "PCTRMDL1" (8 bytes)
 *   8  u32 LE  length L of the JSON envelope
 *  12  u32 LE  CRC-32 of every byte from offset 16 to the end
 *  16  JSON envelope { header, tensors: [{ name, dtype, length, offset }] } (UTF-8, L bytes)
 *      zero padding to a multiple of 8, then the tensors, each 8-byte aligned, little-endian,
 *      at `offset` from the start of the tensor area.
 *
 * Anything that does not check out (magic, lengths, checksum, JSON, header shape, tensor bounds)
 * is PCTR_ARTIFACT_CORRUPT, so a damaged file can never load as a model.
 */
import { crc32 } from 'node:zlib';
import { z } from 'zod';
import { PctrError } from '../core/index.ts';
import type { Artifact, ArtifactHeader } from './model.ts';

const MAGIC = Buffer.from('PCTRMDL1', 'latin1');
const PREFIX = 16;

type Tensor = Artifact['tensors'][string];

const DTYPES = {
  f32: Float32Array,
  f64: Float64Array,
  i32: Int32Array,
  u8: Uint8Array,
} as const;
type DType = keyof typeof DTYPES;

function dtypeOf(t: Tensor): DType {
  if (t instanceof Float32Array) return 'f32';
  if (t instanceof Float64Array) return 'f64';
  if (t instanceof Int32Array) return 'i32';
  return 'u8';
}

const HeaderSchema = z.object({
  format: z.literal('pctr-model/1'),
  kind: z.string().min(1),
  params: z.record(z.string(), z.unknown()),
  schema: z.object({ fields: z.array(z.object({ name: z.string().min(1), kind: z.enum(['categorical', 'numeric']) })) }),
  encoding: z.record(z.string(), z.unknown()),
  calibration: z.record(z.string(), z.unknown()).optional(),
  trainedOn: z.object({ from: z.number(), to: z.number(), rows: z.number(), source: z.string() }).optional(),
  createdAt: z.string(),
});

const Envelope = z.object({
  header: HeaderSchema,
  tensors: z.array(
    z.object({ name: z.string().min(1), dtype: z.enum(Object.keys(DTYPES) as [DType, ...DType[]]), length: z.number().int().min(0), offset: z.number().int().min(0) }),
  ),
});

const align8 = (x: number): number => (x + 7) & ~7;

export function encodeArtifact(artifact: Artifact): Uint8Array {
  let offset = 0;
  const table = Object.entries(artifact.tensors).map(([name, t]) => {
    const entry = { name, dtype: dtypeOf(t), length: t.length, offset };
    offset = align8(offset + t.byteLength);
    return entry;
  });
  const text = JSON.stringify({ header: artifact.header, tensors: table });
  // Check the header as decode will see it (JSON turns NaN into null), so no written artifact is unreadable.
  const check = HeaderSchema.safeParse(JSON.parse(text).header);
  if (!check.success) {
    const issue = check.error.issues[0];
    throw new PctrError('PCTR_VALIDATION', `cannot write artifact: header ${issue.path.join('.') || '(root)'} ${issue.message}`);
  }
  const json = Buffer.from(text, 'utf8');
  const dataStart = align8(PREFIX + json.length);
  const out = Buffer.alloc(dataStart + offset);
  MAGIC.copy(out, 0);
  out.writeUInt32LE(json.length, 8);
  json.copy(out, PREFIX);
  table.forEach((entry) => {
    const t = artifact.tensors[entry.name];
    out.set(new Uint8Array(t.buffer, t.byteOffset, t.byteLength), dataStart + entry.offset);
  });
  out.writeUInt32LE(crc32(out.subarray(PREFIX)), 12);
  return out;
}

function corrupt(message: string, cause?: unknown): PctrError {
  return new PctrError('PCTR_ARTIFACT_CORRUPT', `model artifact is corrupt: ${message}`, { cause });
}

export function decodeArtifact(bytes: Uint8Array): Artifact {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < PREFIX || !buf.subarray(0, 8).equals(MAGIC)) throw corrupt('it does not start with the pctr model magic bytes');
  const jsonLength = buf.readUInt32LE(8);
  if (PREFIX + jsonLength > buf.length) throw corrupt(`its header claims ${jsonLength} bytes but the file has ${buf.length}`);
  if (crc32(buf.subarray(PREFIX)) !== buf.readUInt32LE(12)) throw corrupt('checksum mismatch (the file was truncated or altered)');
  let envelope: z.output<typeof Envelope>;
  try {
    envelope = Envelope.parse(JSON.parse(buf.toString('utf8', PREFIX, PREFIX + jsonLength)));
  } catch (e) {
    throw corrupt(`its header is not valid: ${(e as Error).message}`, e);
  }
  const dataStart = align8(PREFIX + jsonLength);
  const tensors: Record<string, Tensor> = {};
  for (const { name, dtype, length, offset } of envelope.tensors) {
    const Ctor = DTYPES[dtype];
    const start = dataStart + offset;
    const end = start + length * Ctor.BYTES_PER_ELEMENT;
    if (offset % 8 !== 0 || end > buf.length) throw corrupt(`tensor ${name} lies outside the file`);
    // Copy into a fresh, aligned buffer: the model owns its memory, not the file's.
    const copy = new Uint8Array(end - start);
    copy.set(buf.subarray(start, end));
    tensors[name] = new Ctor(copy.buffer, 0, length);
  }
  return { header: envelope.header as ArtifactHeader, tensors };
}
