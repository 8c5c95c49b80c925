/**
 * The aggregator's checkpoint on disk: its window state (typed arrays, written as raw bytes) and the
 * input offsets that state includes, in one file replaced atomically (write temp, fsync, rename), so
 * a restart resumes from a consistent pair and never counts an event twice or not at all.
 * Layout: magic, u32 meta length, u32 array count, u32 byte length per array, meta JSON, arrays
 * (each 8-byte aligned). Entity keys are one UTF-8 text plus their lengths, not JSON: a million
 * keys then write and load in well under a second.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { PctrError } from '../../core/index.ts';
import { ENTITY_TYPES } from '../definitions.ts';
import type { TopicOffsets } from '../consumed-offsets.ts';
import type { AggregatorState } from './aggregator.ts';
import type { WindowedCountsState } from './windowed-counts.ts';

const MAGIC = Buffer.from('PCTRAGG1');


interface Meta {
  eventTime: number | null;
  stats: AggregatorState['stats'];
  offsets: TopicOffsets;
  counters: Record<string, { heads: (number | null)[]; buckets: number[][] }>;
}

const pad8 = (n: number) => (n + 7) & ~7;

export function writeAggregatorState(path: string, state: AggregatorState, offsets: TopicOffsets): void {
  const arrays: Uint8Array[] = [];
  const meta: Meta = { eventTime: Number.isFinite(state.eventTime) ? state.eventTime : null, stats: state.stats, offsets, counters: {} };
  const bytes = (a: ArrayBufferView) => arrays.push(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  for (const e of ENTITY_TYPES) {
    const c = state.counters[e];
    meta.counters[e] = { heads: c.heads.map((h) => (Number.isFinite(h) ? h : null)), buckets: c.buckets.map((ring) => ring.map((b) => b.no)) };
    const { lengths, text } = encodeKeys(c.keys);
    bytes(lengths);
    bytes(text);
    bytes(c.sums);
    bytes(c.flags);
    for (const ring of c.buckets) for (const b of ring) [b.slots, b.imps, b.clicks].forEach(bytes);
  }
  const metaBuf = Buffer.from(JSON.stringify(meta));
  const head = Buffer.alloc(pad8(16 + 4 * arrays.length));
  MAGIC.copy(head, 0);
  head.writeUInt32LE(metaBuf.length, 8);
  head.writeUInt32LE(arrays.length, 12);
  arrays.forEach((a, i) => head.writeUInt32LE(a.byteLength, 16 + 4 * i));
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    const zeros = Buffer.alloc(8);
    writeSync(fd, head);
    writeSync(fd, metaBuf);
    writeSync(fd, zeros, 0, pad8(metaBuf.length) - metaBuf.length);
    for (const a of arrays) {
      writeSync(fd, a);
      writeSync(fd, zeros, 0, pad8(a.byteLength) - a.byteLength);
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  const dfd = openSync(dirname(path), 'r');
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}

/** The state and offsets in `path`, or null when there is no checkpoint yet. */
export function readAggregatorState(path: string): { state: AggregatorState; offsets: TopicOffsets } | null {
  if (!existsSync(path)) return null;
  const buf = readFileSync(path);
  const corrupt = (why: string) => new PctrError('PCTR_STATE_CORRUPT', `aggregator state ${path} is unreadable: ${why}; delete it to rebuild the windows from scratch`);
  if (buf.length < 16 || !buf.subarray(0, 8).equals(MAGIC)) throw corrupt('bad header');
  const metaLen = buf.readUInt32LE(8);
  const count = buf.readUInt32LE(12);
  let at = pad8(16 + 4 * count);
  const lengths = Array.from({ length: count }, (_, i) => buf.readUInt32LE(16 + 4 * i));
  let meta: Meta;
  try {
    meta = JSON.parse(buf.toString('utf8', at, at + metaLen)) as Meta;
  } catch {
    throw corrupt('bad metadata');
  }
  at += pad8(metaLen);
  const arrays: ArrayBuffer[] = lengths.map((len) => {
    if (at + len > buf.length) throw corrupt('truncated');
    const copy = buf.buffer.slice(buf.byteOffset + at, buf.byteOffset + at + len);
    at += pad8(len);
    return copy;
  });
  let next = 0;
  const counters: Record<string, WindowedCountsState> = {};
  for (const e of ENTITY_TYPES) {
    const m = meta.counters[e];
    if (m === undefined) throw corrupt(`no state for entity type ${e}`);
    const keys = decodeKeys(new Int32Array(arrays[next++]), Buffer.from(arrays[next++]));
    const sums = new Uint32Array(arrays[next++]);
    const flags = new Uint8Array(arrays[next++]);
    const buckets = m.buckets.map((ring) =>
      ring.map((no) => ({ no, slots: new Int32Array(arrays[next++]), imps: new Uint32Array(arrays[next++]), clicks: new Uint32Array(arrays[next++]) })),
    );
    counters[e] = { keys, heads: m.heads.map((h) => h ?? -Infinity), sums, flags, buckets };
  }
  return { state: { eventTime: meta.eventTime ?? -Infinity, stats: meta.stats, counters }, offsets: meta.offsets };
}

/** Keys as their lengths in UTF-16 units (-1 for a free slot) and the UTF-8 text of all of them. */
function encodeKeys(keys: readonly (string | null)[]): { lengths: Int32Array; text: Buffer } {
  const lengths = new Int32Array(keys.length);
  for (let i = 0; i < keys.length; i++) lengths[i] = keys[i]?.length ?? -1;
  return { lengths, text: Buffer.from(keys.join(''), 'utf8') };
}

function decodeKeys(lengths: Int32Array, text: Buffer): (string | null)[] {
  const all = text.toString('utf8');
  const keys = new Array<string | null>(lengths.length);
  let at = 0;
  for (let i = 0; i < lengths.length; i++) {
    const n = lengths[i];
    keys[i] = n < 0 ? null : all.slice(at, at + n);
    if (n > 0) at += n;
  }
  return keys;
}
