/**
 * Pieces both backends share: the settings they are built from, name and partition-list checks,
 * and an append acknowledgement that builds its per-record offsets only when asked (most callers
 * never look, and 100k small objects per batch would be most of an append's allocation).
 */
import { PctrError, type Config } from '../core/index.ts';
import type { AppendAck } from './event-log.ts';

/** The `events` section of the config: the URL picks the backend, the rest tunes it. */
export type EventsSettings = Config['events'];

const NAME = /^[A-Za-z0-9_][\w.-]{0,99}$/;

export function checkName(name: string, what: string): void {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new PctrError('PCTR_VALIDATION', `${what} ${JSON.stringify(name)} is not a valid name: use 1-100 letters, digits, . - _ (not starting with . or -)`);
  }
}

/** Validate an explicit partition list (default: all), sorted and without duplicates. */
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
