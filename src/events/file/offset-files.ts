/**
 * Durable small files of the file log, each replaced atomically: consumer-group offsets and the
 * checkpoints of transactional consumers.
 *
 * Group offsets live in one file per (group, topic, partition set): `.groups/<group>/<topic>/<set>.json`.
 * Workers of a group that split partitions each own their file, so concurrent commits never race on
 * a read-modify-write; readers take per partition the largest offset of any file (offsets only grow).
 *
 * A checkpoint (`.tx/<id>/<partition>.ckpt`) is [u32 header length][header JSON][state UTF-8]: the
 * next input offset per input topic, the end offset of each output topic partition it wrote, and the
 * state blob, kept as raw text so a multi-megabyte state costs one write, not a JSON escape.
 */
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PctrError, hashString } from '../../core/index.ts';
import { isErrno, writeFileAtomic } from './fs-util.ts';

export function groupDir(root: string, group: string, topic: string): string {
  return join(root, '.groups', group, topic);
}

function partitionSetName(partitions: readonly number[]): string {
  const list = [...partitions].sort((a, b) => a - b).join('_');
  return list.length <= 180 ? `p${list}` : `h${hashString(list).toString(16)}`;
}

/** Committed offsets of a group for a topic: per partition the largest recorded by any worker. */
export function readGroupOffsets(root: string, group: string, topic: string): Map<number, number> {
  const dir = groupDir(root, group, topic);
  const out = new Map<number, number>();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return out;
    throw e;
  }
  for (const name of names) {
    if (!name.endsWith('.json')) continue;
    let parsed: Record<string, number>;
    try {
      parsed = JSON.parse(readFileSync(join(dir, name), 'utf8')) as Record<string, number>;
    } catch (e) {
      if (isErrno(e, 'ENOENT')) continue;
      throw new PctrError('PCTR_LOG_CORRUPT', `consumer offsets file ${join(dir, name)} is unreadable: ${(e as Error).message}`, { cause: e });
    }
    for (const [p, off] of Object.entries(parsed)) {
      const k = Number(p);
      if (Number.isSafeInteger(off) && (out.get(k) ?? -1) < off) out.set(k, off);
    }
  }
  return out;
}

export async function writeGroupOffsets(root: string, group: string, topic: string, partitions: readonly number[], offsets: ReadonlyMap<number, number>, durable: boolean): Promise<void> {
  const dir = groupDir(root, group, topic);
  mkdirSync(dir, { recursive: true });
  const obj: Record<string, number> = {};
  for (const p of partitions) {
    const off = offsets.get(p);
    if (off !== undefined) obj[p] = off;
  }
  await writeFileAtomic(join(dir, `${partitionSetName(partitions)}.json`), JSON.stringify(obj), durable);
}

export interface CheckpointFile {
  /** Next input offset per input topic. */
  readonly inputs: Readonly<Record<string, number>>;
  /** End offset per output topic (of this partition) at the commit. */
  readonly outputs: Readonly<Record<string, number>>;
  readonly state: string | null;
}

export function checkpointDir(root: string, id: string): string {
  return join(root, '.tx', id);
}

export function readCheckpoint(root: string, id: string, partition: number): CheckpointFile | null {
  const path = join(checkpointDir(root, id), `${partition}.ckpt`);
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return null;
    throw e;
  }
  try {
    const headerLen = buf.readUInt32LE(0);
    const header = JSON.parse(buf.toString('utf8', 4, 4 + headerLen)) as { inputs: Record<string, number>; outputs: Record<string, number>; hasState: boolean };
    return { inputs: header.inputs, outputs: header.outputs, state: header.hasState ? buf.toString('utf8', 4 + headerLen) : null };
  } catch (e) {
    throw new PctrError('PCTR_LOG_CORRUPT', `transactional checkpoint ${path} is unreadable: ${(e as Error).message}`, { cause: e });
  }
}

export async function writeCheckpoint(root: string, id: string, partition: number, ckpt: CheckpointFile, durable: boolean): Promise<void> {
  const header = Buffer.from(JSON.stringify({ inputs: ckpt.inputs, outputs: ckpt.outputs, hasState: ckpt.state !== null }));
  const len = Buffer.allocUnsafe(4);
  len.writeUInt32LE(header.length, 0);
  const parts = [len, header];
  if (ckpt.state !== null) parts.push(Buffer.from(ckpt.state, 'utf8'));
  await writeFileAtomic(join(checkpointDir(root, id), `${partition}.ckpt`), parts, durable);
}
