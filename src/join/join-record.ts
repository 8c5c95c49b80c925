/**
 * The join's input record type, apart from the join so that its stores can name it without a cycle.
 */
/**
 * An input record: its key, its offset, and its value as UTF-8 bytes `bytes[start, end)` (a span of
 * the buffer the log read it into, which the join may keep while the impression is pending).
 */
export interface JoinRecord {
  readonly key: string;
  readonly offset: number;
  readonly bytes: Buffer;
  readonly start: number;
  readonly end: number;
}

/** A JoinRecord of a text value (replayed input, tests). */
export function textRecord(key: string, value: string, offset: number): JoinRecord {
  const bytes = Buffer.from(value);
  return { key, offset, bytes, start: 0, end: bytes.length };
}
