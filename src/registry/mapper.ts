/**
 * The one place where database rows and domain objects meet: column lists, insert parameters and
 * row → ModelVersion / AliasEvent. Both dialects store JSON as text and BIGINT columns may come
 * back as strings (pg), so every number goes through Number().
 */
import type { AliasAction, AliasEvent, ModelVersion, VersionMeta } from './registry.ts';
import type { Row } from './sql-driver.ts';

export const VERSION_COLUMNS =
  'name, version, kind, params, metrics, data_from, data_to, data_rows, parent_version, code_version, run_id, description, idempotency_key, digest, size_bytes, created_at';

export const VERSION_PLACEHOLDERS = VERSION_COLUMNS.split(',')
  .map(() => '?')
  .join(', ');

export const HISTORY_COLUMNS = 'name, alias, action, from_version, to_version, reason, at';

/** Insert parameters in VERSION_COLUMNS order. */
export function versionRow(
  name: string,
  version: number,
  meta: VersionMeta,
  paramsJson: string,
  artifact: { digest: string; sizeBytes: number },
  createdAt: string,
): unknown[] {
  return [
    name,
    version,
    meta.kind,
    paramsJson,
    JSON.stringify(meta.metrics),
    meta.dataRange?.from ?? null,
    meta.dataRange?.to ?? null,
    meta.dataRange?.rows ?? null,
    meta.parentVersion ?? null,
    meta.codeVersion ?? null,
    meta.runId ?? null,
    meta.description ?? null,
    meta.idempotencyKey ?? null,
    artifact.digest,
    artifact.sizeBytes,
    createdAt,
  ];
}

/** Insert parameters in HISTORY_COLUMNS order. */
export function historyRow(e: AliasEvent): unknown[] {
  return [e.name, e.alias, e.action, e.fromVersion, e.toVersion, e.reason, e.at];
}

const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** Optional fields are absent (not undefined) when unset, so a version reads back like its input. */
export function toModelVersion(row: Row, aliases: readonly string[]): ModelVersion {
  const v: Record<string, unknown> = {
    name: String(row.name),
    version: num(row.version),
    kind: String(row.kind),
    params: JSON.parse(String(row.params)) as Record<string, unknown>,
    metrics: JSON.parse(String(row.metrics)) as Record<string, number>,
  };
  if (row.data_from !== null) v.dataRange = { from: num(row.data_from), to: num(row.data_to), rows: num(row.data_rows) };
  if (row.parent_version !== null) v.parentVersion = num(row.parent_version);
  if (row.code_version !== null) v.codeVersion = String(row.code_version);
  if (row.run_id !== null) v.runId = String(row.run_id);
  if (row.description !== null) v.description = String(row.description);
  if (row.idempotency_key !== null) v.idempotencyKey = String(row.idempotency_key);
  v.digest = String(row.digest);
  v.sizeBytes = num(row.size_bytes);
  v.createdAt = String(row.created_at);
  v.aliases = [...aliases].sort();
  return v as unknown as ModelVersion;
}

export function toAliasEvent(row: Row): AliasEvent {
  return {
    name: String(row.name),
    alias: String(row.alias),
    action: String(row.action) as AliasAction,
    fromVersion: numOrNull(row.from_version),
    toVersion: numOrNull(row.to_version),
    reason: String(row.reason),
    at: String(row.at),
  };
}
