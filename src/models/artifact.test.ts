import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { isPctrError } from '../core/index.ts';
import { decodeArtifact, encodeArtifact } from './artifact.ts';
import type { Artifact } from './model.ts';

const artifact: Artifact = {
  header: {
    format: 'pctr-model/1',
    kind: 'test',
    params: { alpha: 0.1, nested: { a: [1, 2] } },
    schema: { fields: [{ name: 'ad', kind: 'categorical' }] },
    encoding: { bits: 4 },
    calibration: { method: 'none', downsampleRate: 1 },
    trainedOn: { from: 0, to: 9, rows: 10, source: 'x.tsv' },
    createdAt: '2024-01-01T00:00:00.000Z',
  },
  tensors: {
    w: Float32Array.from([0.1, -2.5, Math.PI]),
    n: Float64Array.from([1e-300, 7, -0]),
    idx: Int32Array.from([3, -1, 2 ** 31 - 1]),
    flags: Uint8Array.from([1, 0, 255, 7, 9]),
    empty: new Float64Array(0),
  },
};

function corruptCode(bytes: Uint8Array): string | undefined {
  try {
    decodeArtifact(bytes);
    return undefined;
  } catch (e) {
    return isPctrError(e) ? `${e.code}: ${e.message}` : String(e);
  }
}

describe('artifact format', () => {
  it('round-trips header and tensors exactly, tensors 8-byte aligned and owning their memory', () => {
    const bytes = encodeArtifact(artifact);
    const back = decodeArtifact(bytes);
    expect(back.header).toEqual(artifact.header);
    expect(Object.keys(back.tensors)).toEqual(Object.keys(artifact.tensors));
    for (const [name, t] of Object.entries(artifact.tensors)) {
      const b = back.tensors[name];
      expect(b.constructor).toBe(t.constructor);
      expect(Buffer.from(b.buffer, b.byteOffset, b.byteLength).equals(Buffer.from(t.buffer, t.byteOffset, t.byteLength))).toBe(true);
      expect(b.byteOffset % 8).toBe(0);
    }
    expect(Object.is(back.tensors.n[2], -0)).toBe(true);
    expect(encodeArtifact(back)).toEqual(bytes);
  });

  it('rejects damaged files as PCTR_ARTIFACT_CORRUPT with the reason', () => {
    const bytes = encodeArtifact(artifact);
    const flipped = Uint8Array.from(bytes);
    flipped[flipped.length - 3] ^= 0x10;
    expect(corruptCode(flipped)).toMatch(/^PCTR_ARTIFACT_CORRUPT: .*checksum mismatch/);
    expect(corruptCode(bytes.subarray(0, bytes.length - 8))).toMatch(/^PCTR_ARTIFACT_CORRUPT: .*checksum/);
    expect(corruptCode(bytes.subarray(0, 20))).toMatch(/^PCTR_ARTIFACT_CORRUPT: .*header claims/);
    expect(corruptCode(Buffer.from('{"header": {}}'))).toMatch(/^PCTR_ARTIFACT_CORRUPT: .*magic/);
    expect(corruptCode(new Uint8Array(0))).toMatch(/^PCTR_ARTIFACT_CORRUPT/);
  });

  it('refuses to write a header it could not read back', () => {
    expect(() => encodeArtifact({ ...artifact, header: { ...artifact.header, format: 'other' as 'pctr-model/1' } })).toThrow(/cannot write artifact: header format/);
    expect(() => encodeArtifact({ ...artifact, header: { ...artifact.header, trainedOn: { from: NaN, to: 1, rows: 1, source: '' } } })).toThrow(/trainedOn.from/);
  });

  it('rejects a file whose header is not a model header', () => {
    const good = encodeArtifact(artifact);
    const json = Buffer.from(good.subarray(16, 16 + Buffer.from(good).readUInt32LE(8))).toString('utf8').replace('pctr-model/1', 'pctr-model/9');
    const bytes = Buffer.from(good);
    bytes.write(json, 16, 'utf8');
    bytes.writeUInt32LE(crc32(bytes.subarray(16)), 12);
    expect(corruptCode(bytes)).toMatch(/^PCTR_ARTIFACT_CORRUPT: .*header is not valid/);
  });
});
