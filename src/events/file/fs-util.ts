/**
 * Small durable-file helpers for the file log: atomic replace (temp + fsync + rename + directory
 * fsync), so a reader or a restart sees the old or the new content and never a torn mix; and the
 * translation of native fs errors into PctrError at the backend boundary.
 */
import { closeSync, fdatasync, fsyncSync, openSync, renameSync, write, writeSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { PctrError, errorMessage } from '../../core/index.ts';

let tmpSeq = 0;

function tempPath(path: string): string {
  return `${path}.${process.pid}-${tmpSeq++}.tmp`;
}

/** Replace `path` with `data` atomically; `durable` fsyncs the data and the directory entry. */
export async function writeFileAtomic(path: string, data: string | Uint8Array | readonly Uint8Array[], durable: boolean): Promise<void> {
  const tmp = tempPath(path);
  const fh = await open(tmp, 'w');
  try {
    if (Array.isArray(data)) await fh.writev(data as Uint8Array[]);
    else await fh.writeFile(data as string | Uint8Array);
    if (durable) await fh.datasync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  if (durable) await fsyncDir(dirname(path));
}

/** Synchronous `writeFileAtomic`, for small files written where awaiting is not possible. */
export function writeFileAtomicSync(path: string, data: string, durable: boolean): void {
  const tmp = tempPath(path);
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, data);
    if (durable) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  if (durable) fsyncDirSync(dirname(path));
}

/** Positioned write of `buf[0, len)` at `position`, continuing after short writes. */
export function pwriteAll(fd: number, buf: Buffer, len: number, position: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const step = (done: number): void => {
      write(fd, buf, done, len - done, position + done, (err, n) => {
        if (err) reject(err);
        else if (done + n < len) step(done + n);
        else resolve();
      });
    };
    step(0);
  });
}

export function datasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())));
}

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export function fsyncDirSync(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function isErrno(err: unknown, code: string): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === code;
}

/** Wrap a native fs error as PCTR_BACKEND_UNAVAILABLE naming the operation and path; PctrErrors pass through. */
export function fsError(err: unknown, what: string): PctrError {
  if (err instanceof PctrError) return err;
  return new PctrError('PCTR_BACKEND_UNAVAILABLE', `event log: ${what} failed: ${errorMessage(err)}`, { cause: err });
}
