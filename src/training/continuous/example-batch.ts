/**
 * Labeled-example records from the event log into a columnar batch for the learner, plus the pCTR
 * each example was served with (the champion's prediction, for progressive comparison). Invalid
 * records are counted and skipped; they never stop the learner.
 *
 * The join validated every example it wrote, so this checks only what learning relies on (type,
 * label, time, served pCTR, a feature record) by hand — a full schema parse costs about 7× the
 * JSON parse and was most of the learner's time — and asks the schema for its message only when a
 * record fails the check.
 */
import { LabeledExample, RawBatchBuilder, errorMessage, type FeatureSchema, type FeatureValue, type RawBatch } from '../../core/index.ts';
import { decodeEvent, type LogRecord } from '../../events/index.ts';

export interface DecodedBatch {
  readonly batch: RawBatch;
  /** Served pCTR per row. */
  readonly served: Float32Array;
  readonly invalid: number;
  /** Event-time span of the valid rows (NaN when none). */
  readonly minTs: number;
  readonly maxTs: number;
}

interface Learnable {
  readonly ts: number;
  readonly label: 0 | 1;
  readonly pCTR: number;
  readonly features: Readonly<Record<string, FeatureValue>>;
}

function learnable(value: unknown): value is Learnable {
  if (typeof value !== 'object' || value === null) return false;
  const e = value as Record<string, unknown>;
  const f = e.features;
  return (
    e.type === 'example' &&
    (e.label === 0 || e.label === 1) &&
    typeof e.ts === 'number' &&
    Number.isFinite(e.ts) &&
    typeof e.pCTR === 'number' &&
    e.pCTR >= 0 &&
    e.pCTR <= 1 &&
    typeof f === 'object' &&
    f !== null &&
    !Array.isArray(f)
  );
}

/** Why a record is not a labeled example, in the schema's words. */
function problem(record: LogRecord): string {
  try {
    decodeEvent(record, LabeledExample);
    return `event ${record.topic}/${record.partition}@${record.offset} lacks what learning needs`;
  } catch (e) {
    return errorMessage(e);
  }
}

export function decodeExamples(records: readonly LogRecord[], schema: FeatureSchema, onInvalid: (message: string) => void): DecodedBatch {
  const builder = new RawBatchBuilder(schema, Math.max(1, records.length));
  const served = new Float32Array(records.length);
  let invalid = 0;
  let minTs = Infinity;
  let maxTs = -Infinity;
  for (const record of records) {
    let e: unknown;
    try {
      e = JSON.parse(record.value);
    } catch {
      e = undefined;
    }
    if (!learnable(e)) {
      invalid++;
      onInvalid(problem(record));
      continue;
    }
    served[builder.n] = e.pCTR;
    builder.add(e.features, e.label, e.ts);
    if (e.ts < minTs) minTs = e.ts;
    if (e.ts > maxTs) maxTs = e.ts;
  }
  const batch = builder.build({ labels: true, ts: true });
  return { batch, served: served.subarray(0, batch.n), invalid, minTs: batch.n ? minTs : NaN, maxTs: batch.n ? maxTs : NaN };
}
