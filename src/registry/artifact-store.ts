/**
 * Content-addressed artifact store: `DIR/sha256/ab/<hex>`. Files are written to a temporary name,
 * fsynced and renamed into place (then the directory is fsynced), so a crash leaves either no file
 * or a complete one; identical bytes are stored once. Every read is re-hashed against the digest
 * it was asked for, so a corrupted or truncated file is refused rather than loaded.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PctrError } from '../core/index.ts';

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** What a corrupt or missing file belonged to, for the error message. */
export interface ArtifactOwner {
  readonly name: string;
  readonly version: number;
}

export class ArtifactStore {
  constructor(readonly dir: string) {}

  pathOf(digest: string): string {
    return join(this.dir, 'sha256', digest.slice(0, 2), digest);
  }

  /**
   * Store bytes durably and return their sha256. The stored file is read back and re-hashed
   * before returning, so what a caller registers is what a later load will find.
   */
  async put(bytes: Uint8Array): Promise<string> {
    const digest = sha256Hex(bytes);
    const path = this.pathOf(digest);
    const existing = await readOrNull(path);
    if (existing !== null && sha256Hex(existing) === digest) return digest;
    const dir = join(this.dir, 'sha256', digest.slice(0, 2));
    await mkdir(dir, { recursive: true });
    const tmp = join(dir, `.${digest}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      const fh = await open(tmp, 'w');
      try {
        await fh.writeFile(bytes);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, path);
    } catch (e) {
      await rm(tmp, { force: true });
      throw new PctrError('PCTR_BACKEND_UNAVAILABLE', `cannot write artifact ${path}: ${(e as Error).message}`, { cause: e });
    }
    await fsyncDir(dir);
    const back = await readOrNull(path);
    const actual = back === null ? null : sha256Hex(back);
    if (actual !== digest) {
      throw new PctrError('PCTR_ARTIFACT_CORRUPT', `artifact ${path} reads back ${actual === null ? 'missing' : `as sha256 ${actual}`} right after writing sha256 ${digest}`, {
        details: { expected: digest, actual, path },
      });
    }
    return digest;
  }

  /** The bytes with this digest; PCTR_ARTIFACT_CORRUPT naming the owner when missing or altered. */
  async load(digest: string, owner: ArtifactOwner): Promise<Uint8Array> {
    const path = this.pathOf(digest);
    const what = `artifact of model ${owner.name} version ${owner.version}`;
    const bytes = await readOrNull(path);
    if (bytes === null) {
      throw new PctrError('PCTR_ARTIFACT_CORRUPT', `${what} is missing: no file ${path} (expected sha256 ${digest})`, {
        details: { name: owner.name, version: owner.version, expected: digest, actual: null, path },
      });
    }
    const actual = sha256Hex(bytes);
    if (actual !== digest) {
      throw new PctrError('PCTR_ARTIFACT_CORRUPT', `${what} is corrupt: expected sha256 ${digest}, found ${actual} (${bytes.length} bytes in ${path})`, {
        details: { name: owner.name, version: owner.version, expected: digest, actual, path },
      });
    }
    return bytes;
  }
}

async function readOrNull(path: string): Promise<Uint8Array | null> {
  try {
    return await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new PctrError('PCTR_BACKEND_UNAVAILABLE', `cannot read artifact ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/** Make the rename itself durable (the directory entry), not only the file's contents. */
async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
