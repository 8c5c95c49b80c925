/**
 * Exclusive ownership of a partition (writer) or of a transactional id's partition, across processes:
 * a lock file holding `pid token`. A lock whose pid is dead, or that belongs to this process but to no
 * live lock object (an instance dropped without close, as after a simulated crash), is stale and is
 * taken over. Two processes taking over one stale lock at the very same moment is not guarded against.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { PctrError } from '../../core/index.ts';
import { isErrno } from './fs-util.ts';

/** Tokens of locks held by live FileLock objects of this process. */
const heldHere = new Set<string>();

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return isErrno(e, 'EPERM');
  }
}

export class FileLock {
  private released = false;

  private constructor(
    readonly path: string,
    private readonly token: string,
  ) {}

  /** Take the lock or throw PCTR_CONFLICT naming the holder; `what` says what is being locked. */
  static acquire(path: string, what: string): FileLock {
    const token = randomBytes(8).toString('hex');
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fd = openSync(path, 'wx');
        try {
          writeSync(fd, `${process.pid} ${token}\n`);
        } finally {
          closeSync(fd);
        }
        heldHere.add(token);
        return new FileLock(path, token);
      } catch (e) {
        if (!isErrno(e, 'EEXIST')) throw e;
      }
      const holder = readHolder(path);
      if (holder && pidAlive(holder.pid) && (holder.pid !== process.pid || heldHere.has(holder.token))) {
        const who = holder.pid === process.pid ? 'another instance in this process' : `process ${holder.pid}`;
        throw new PctrError('PCTR_CONFLICT', `${what} is locked by ${who} (lock file ${path}); only one writer may own it`, {
          details: { lock: path, pid: holder.pid },
        });
      }
      try {
        unlinkSync(path);
      } catch (e) {
        if (!isErrno(e, 'ENOENT')) throw e;
      }
    }
    throw new PctrError('PCTR_CONFLICT', `${what}: could not take lock file ${path} (contended)`);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    heldHere.delete(this.token);
    const holder = readHolder(this.path);
    if (holder?.token !== this.token) return;
    try {
      unlinkSync(this.path);
    } catch (e) {
      if (!isErrno(e, 'ENOENT')) throw e;
    }
  }
}

function readHolder(path: string): { pid: number; token: string } | null {
  try {
    const [pid, token] = readFileSync(path, 'utf8').trim().split(' ');
    const n = Number(pid);
    return Number.isInteger(n) && n > 0 ? { pid: n, token: token ?? '' } : null;
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return null;
    throw e;
  }
}
