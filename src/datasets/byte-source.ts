/**
 * Streams the bytes of a data file, gunzipping when it starts with the gzip magic bytes, and
 * translates file and zlib failures into PctrErrors that name the file. Chunks are large so the
 * line parser above it runs long tight loops instead of many small ones.
 */
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { PctrError } from '../core/index.ts';

const CHUNK_BYTES = 1 << 20;

export interface ByteSource {
  readonly chunks: AsyncIterable<Buffer>;
  readonly gzip: boolean;
  /** Fraction of the file (on disk, compressed bytes) read so far. */
  progress(): number;
}

async function isGzip(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await fh.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/** Opens `path` for streaming; throws PCTR_NOT_FOUND / PCTR_DATA_INVALID when it cannot be read. */
export async function openByteSource(path: string): Promise<ByteSource> {
  let size: number;
  let gzip: boolean;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new PctrError('PCTR_DATA_INVALID', `${path} is not a file`);
    size = st.size;
    gzip = await isGzip(path);
  } catch (e) {
    throw translateReadError(e, path, 0);
  }
  const file = createReadStream(path, { highWaterMark: CHUNK_BYTES });
  const stream: Readable = gzip ? pipeline(file, createGunzip({ chunkSize: CHUNK_BYTES }), () => {}) : file;
  return {
    chunks: stream as AsyncIterable<Buffer>,
    gzip,
    progress: () => (size === 0 ? 1 : Math.min(1, file.bytesRead / size)),
  };
}

/** A native read or zlib error as the PctrError a caller can act on. */
export function translateReadError(e: unknown, path: string, rowsRead: number): PctrError {
  if (e instanceof PctrError) return e;
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') return new PctrError('PCTR_NOT_FOUND', `data file ${path} does not exist`, { cause: e });
  if (code === 'Z_BUF_ERROR') {
    return new PctrError('PCTR_FILE_TRUNCATED', `${path} is a truncated gzip file: it ends after ${rowsRead} good rows`, {
      cause: e,
      details: { path, rows: rowsRead },
    });
  }
  if (code === 'Z_DATA_ERROR') {
    return new PctrError('PCTR_DATA_INVALID', `${path} has corrupt gzip data after ${rowsRead} good rows: ${(e as Error).message}`, {
      cause: e,
      details: { path, rows: rowsRead },
    });
  }
  return new PctrError('PCTR_DATA_INVALID', `cannot read ${path}: ${(e as Error)?.message ?? String(e)}`, { cause: e, details: { path } });
}

/**
 * Regroups a byte stream into blocks that end on a line boundary, so a parser can scan whole lines
 * of each block with indexOf. Only the final block may end without a newline (a last line lacking
 * its terminator); when the stream fails, the partial line before the failure is never yielded.
 */
export async function* lineBlocks(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let carry: Buffer | null = null;
  for await (const chunk of chunks) {
    const buf: Buffer = carry === null ? chunk : Buffer.concat([carry, chunk]);
    const last = buf.lastIndexOf(10);
    if (last < 0) {
      carry = buf;
      continue;
    }
    carry = last + 1 < buf.length ? buf.subarray(last + 1) : null;
    yield buf.subarray(0, last + 1);
  }
  if (carry !== null) yield carry;
}
