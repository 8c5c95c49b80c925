/**
 * Pieces both backends share: the settings they are built from, name and partition-list checks,
 * the grouping of a transactional consumer's outputs by partition, and an append acknowledgement that builds its per-record offsets only when asked (most callers
 * never look, and 100k small objects per batch would be most of an append's allocation).
 */
import { PctrError, partitionOf, type Config } from '../core/index.ts';
import type { AppendAck } from './event-log.ts';
import type { RecordSource } from './record-buffer.ts';

/** The `events` section of the config: the URL picks the backend, the rest tunes it. */
export type EventsSettings = Config['events'];

const NAME = /^[A-Za-z0-9_][\w.-]{0,99}$/;

export function checkName(name: string, what: string): void {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new PctrError('PCTR_VALIDATION', `${what} ${JSON.stringify(name)} is not a valid name: use 1-100 letters, digits, . - _ (not starting with . or -)`);
  }
}

/** Validate an explicit partition list (default: all), sorted and without duplicates. */
/** The input topics of a transactional consumer `id`: one or more distinct, valid names. */
export function transactionalTopics(topic: string | readonly string[], id: string): string[] {
  const topics = typeof topic === 'string' ? [topic] : [...topic];
  if (topics.length === 0 || new Set(topics).size !== topics.length) throw new PctrError('PCTR_VALIDATION', `transactional '${id}': input topics must be distinct and at least one`);
  for (const t of topics) checkName(t, 'topic');
  checkName(id, 'transactional id');
  return topics;
}

export function checkPartitions(list: readonly number[] | undefined, partitions: number): number[] {
  if (list === undefined) return Array.from({ length: partitions }, (_, i) => i);
  if (list.length === 0) throw new PctrError('PCTR_VALIDATION', 'partitions must list at least one partition');
  for (const p of list) {
    if (!Number.isInteger(p) || p < 0 || p >= partitions) {
      throw new PctrError('PCTR_VALIDATION', `partition ${p} does not exist: topics have partitions 0..${partitions - 1}`);
    }
  }
  const sorted = [...new Set(list)].sort((a, b) => a - b);
  if (sorted.length !== list.length) throw new PctrError('PCTR_VALIDATION', `partitions [${list.join(', ')}] lists a partition twice`);
  return sorted;
}

/** Offsets of an append: record i went to partition `parts[i]` at offset `offsets[i]`. */
export class LazyAppendAck implements AppendAck {
  private cache: { partition: number; offset: number }[] | null = null;

  constructor(
    private readonly parts: Int32Array,
    private readonly offsetsOf: Float64Array,
  ) {}

  get offsets(): readonly { readonly partition: number; readonly offset: number }[] {
    if (this.cache) return this.cache;
    const out = new Array<{ partition: number; offset: number }>(this.parts.length);
    for (let i = 0; i < this.parts.length; i++) out[i] = { partition: this.parts[i], offset: this.offsetsOf[i] };
    return (this.cache = out);
  }
}

/**
 * Indices of `src`'s records per partition, for the outputs of transactional consumer `id` to
 * `topic`: every record must land in a partition it owns, or nothing is written (PCTR_VALIDATION).
 */
export function groupOutputs(id: string, owned: readonly number[], partitions: number, topic: string, src: RecordSource): Map<number, Int32Array> {
  const n = src.length;
  const parts = new Int32Array(n);
  const counts = new Int32Array(partitions);
  for (let i = 0; i < n; i++) {
    const p = partitionOf(src.key(i), partitions);
    parts[i] = p;
    counts[p]++;
  }
  const out = new Map<number, Int32Array>();
  for (let p = 0; p < partitions; p++) {
    if (counts[p] === 0) continue;
    if (!owned.includes(p)) {
      const key = src.key(parts.indexOf(p));
      throw new PctrError('PCTR_VALIDATION', `transactional consumer '${id}' owns partitions [${owned.join(', ')}] but output to ${topic} with key ${JSON.stringify(key)} belongs to partition ${p}; outputs must be keyed into the partition of their input`, {
        details: { topic, partition: p, key },
      });
    }
    out.set(p, new Int32Array(counts[p]));
  }
  const fill = new Int32Array(partitions);
  for (let i = 0; i < n; i++) {
    const p = parts[i];
    (out.get(p) as Int32Array)[fill[p]++] = i;
  }
  return out;
}
