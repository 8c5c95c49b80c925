/**
 * How a labeled example becomes a Parquet row: the example's own fields as typed columns, and every
 * logged feature flattened into a column of its own — categoricals as VARCHAR, numerics as DOUBLE.
 * A feature's kind comes from the served feature definitions, else from its values (all numbers →
 * DOUBLE), so the same feature keeps one type across files and `union_by_name` can stack them.
 */
import type { FeatureValue, LabeledExample } from '../../core/index.ts';
import { servedFeatureKind } from '../definitions.ts';

export type ColumnType = 'VARCHAR' | 'BIGINT' | 'DOUBLE' | 'INTEGER' | 'UTINYINT';

export interface ExampleColumn {
  readonly name: string;
  readonly type: ColumnType;
  /** The value of this column for an example; null = SQL NULL. */
  readonly get: (e: LabeledExample) => string | number | null;
}

export const FIXED_COLUMNS: readonly ExampleColumn[] = [
  { name: 'impressionId', type: 'VARCHAR', get: (e) => e.impressionId },
  { name: 'requestId', type: 'VARCHAR', get: (e) => e.requestId },
  { name: 'ts', type: 'BIGINT', get: (e) => e.ts },
  { name: 'label', type: 'UTINYINT', get: (e) => e.label },
  { name: 'clickTs', type: 'BIGINT', get: (e) => e.clickTs },
  { name: 'userId', type: 'VARCHAR', get: (e) => e.userId },
  { name: 'adId', type: 'VARCHAR', get: (e) => e.adId },
  { name: 'campaignId', type: 'VARCHAR', get: (e) => e.campaignId },
  { name: 'bid', type: 'DOUBLE', get: (e) => e.bid },
  { name: 'position', type: 'INTEGER', get: (e) => e.position },
  { name: 'pCTR', type: 'DOUBLE', get: (e) => e.pCTR },
  { name: 'modelVersion', type: 'VARCHAR', get: (e) => e.modelVersion },
  { name: 'oracleCtr', type: 'DOUBLE', get: (e) => e.oracleCtr ?? null },
];

const FIXED_NAMES = new Set(FIXED_COLUMNS.map((c) => c.name.toLowerCase()));

/** Column of a feature: its own name, unless that collides (case-insensitively, as in SQL) with a fixed column. */
export function featureColumn(feature: string): string {
  return FIXED_NAMES.has(feature.toLowerCase()) ? `feature_${feature}` : feature;
}

function categorical(v: FeatureValue | undefined): string | null {
  return v === undefined ? null : typeof v === 'string' ? v : String(v);
}

function numeric(v: FeatureValue | undefined): number | null {
  if (v === undefined) return null;
  const x = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(x) ? x : null;
}

/** The columns of a set of examples: fixed ones, then one per feature seen (first-seen order). */
export function exampleColumns(examples: readonly LabeledExample[]): ExampleColumn[] {
  const kinds = new Map<string, 'categorical' | 'numeric'>();
  for (const e of examples) {
    for (const name in e.features) {
      const known = kinds.get(name);
      if (known === 'categorical') continue;
      const declared = servedFeatureKind(name);
      const kind = declared ?? (typeof e.features[name] === 'number' ? 'numeric' : 'categorical');
      if (known === undefined || kind === 'categorical') kinds.set(name, kind);
    }
  }
  const columns: ExampleColumn[] = [...FIXED_COLUMNS];
  const seen = new Set(FIXED_NAMES);
  for (const [name, kind] of kinds) {
    const column = featureColumn(name);
    if (seen.has(column.toLowerCase())) continue;
    seen.add(column.toLowerCase());
    columns.push(
      kind === 'categorical'
        ? { name: column, type: 'VARCHAR', get: (e) => categorical(e.features[name]) }
        : { name: column, type: 'DOUBLE', get: (e) => numeric(e.features[name]) },
    );
  }
  return columns;
}
