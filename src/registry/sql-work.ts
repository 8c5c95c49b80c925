/**
 * The registry's database work, written once for both dialects (see sql-driver.ts). Write work
 * starts by locking the registered model row, so everything after it sees a stable model:
 * versions are allocated from `last_version` without gaps, idempotency keys are checked before a
 * version is made, and an alias is compared and moved together with its history row.
 */
import { PctrError } from '../core/index.ts';
import { rollbackTarget } from './alias-history.ts';
import { HISTORY_COLUMNS, VERSION_COLUMNS, VERSION_PLACEHOLDERS, historyRow, toAliasEvent, toModelVersion, versionRow } from './mapper.ts';
import type { AliasEvent, ModelVersion, VersionMeta } from './registry.ts';
import { sql, type SqlDriver, type SqlWork } from './sql-driver.ts';
import { LATEST } from './validate.ts';

const q = (name: string) => JSON.stringify(name);

function* unknownModel(name: string): SqlWork<PctrError> {
  const rows = yield* sql('SELECT name FROM registered_models ORDER BY name LIMIT 20');
  const known = rows.map((r) => String(r.name));
  return new PctrError('PCTR_UNKNOWN_MODEL', `no registered model ${q(name)} (${known.length ? `registered: ${known.join(', ')}` : 'none registered yet'})`, {
    details: { name },
  });
}

function unknownVersion(name: string, version: number, last: number): PctrError {
  const range = last === 0 ? 'it has no versions yet' : last === 1 ? 'it has version 1 only' : `versions 1-${last}`;
  return new PctrError('PCTR_UNKNOWN_MODEL', `model ${q(name)} has no version ${version} (${range})`, { details: { name, version } });
}

function* unknownAlias(name: string, alias: string): SqlWork<PctrError> {
  const rows = yield* sql('SELECT alias FROM aliases WHERE name = ? ORDER BY alias', name);
  const known = rows.map((r) => `@${String(r.alias)}`);
  return new PctrError('PCTR_UNKNOWN_ALIAS', `model ${q(name)} has no alias @${alias} (${known.length ? `aliases: ${known.join(', ')}` : 'it has no aliases'})`, {
    details: { name, alias },
  });
}

/** last_version of a model, locking its row in write work; PCTR_UNKNOWN_MODEL when absent. */
function* modelRow(name: string, forUpdate = ''): SqlWork<number> {
  const rows = yield* sql(`SELECT last_version FROM registered_models WHERE name = ?${forUpdate}`, name);
  if (rows.length === 0) throw yield* unknownModel(name);
  return Number(rows[0].last_version);
}

function* versionWithAliases(name: string, version: number): SqlWork<ModelVersion | null> {
  const rows = yield* sql(`SELECT ${VERSION_COLUMNS} FROM model_versions WHERE name = ? AND version = ?`, name, version);
  if (rows.length === 0) return null;
  const aliases = yield* sql('SELECT alias FROM aliases WHERE name = ? AND version = ?', name, version);
  return toModelVersion(rows[0], aliases.map((r) => String(r.alias)));
}

function* aliasVersion(name: string, alias: string): SqlWork<number | null> {
  const rows = yield* sql('SELECT version FROM aliases WHERE name = ? AND alias = ?', name, alias);
  return rows.length === 0 ? null : Number(rows[0].version);
}

export function* registerWork(
  d: SqlDriver,
  name: string,
  meta: VersionMeta,
  paramsJson: string,
  artifact: { digest: string; sizeBytes: number },
  now: string,
): SqlWork<ModelVersion> {
  yield* sql('INSERT INTO registered_models (name, last_version, created_at) VALUES (?, 0, ?) ON CONFLICT (name) DO NOTHING', name, now);
  const last = yield* modelRow(name, d.forUpdate);
  if (meta.idempotencyKey !== undefined) {
    const rows = yield* sql('SELECT version FROM model_versions WHERE name = ? AND idempotency_key = ?', name, meta.idempotencyKey);
    if (rows.length > 0) return (yield* versionWithAliases(name, Number(rows[0].version)))!;
  }
  if (meta.parentVersion !== undefined && meta.parentVersion > last) {
    throw new PctrError('PCTR_VALIDATION', `invalid version metadata: parentVersion ${meta.parentVersion} of model ${q(name)} does not exist (latest is ${last})`, {
      details: { field: 'parentVersion' },
    });
  }
  const [bumped] = yield* sql('UPDATE registered_models SET last_version = last_version + 1 WHERE name = ? RETURNING last_version', name);
  const version = Number(bumped.last_version);
  yield* sql(`INSERT INTO model_versions (${VERSION_COLUMNS}) VALUES (${VERSION_PLACEHOLDERS})`, ...versionRow(name, version, meta, paramsJson, artifact, now));
  return (yield* versionWithAliases(name, version))!;
}

export function* getWork(name: string, ref: { version: number } | { alias: string }): SqlWork<ModelVersion> {
  let version: number;
  if ('version' in ref) {
    version = ref.version;
  } else if (ref.alias === LATEST) {
    version = yield* modelRow(name);
    if (version === 0) throw unknownVersion(name, 1, 0);
  } else {
    const v = yield* aliasVersion(name, ref.alias);
    if (v === null) {
      yield* modelRow(name);
      throw yield* unknownAlias(name, ref.alias);
    }
    version = v;
  }
  const found = yield* versionWithAliases(name, version);
  if (found === null) throw unknownVersion(name, version, yield* modelRow(name));
  return found;
}

export function* listWork(name: string): SqlWork<ModelVersion[]> {
  yield* modelRow(name);
  const rows = yield* sql(`SELECT ${VERSION_COLUMNS} FROM model_versions WHERE name = ? ORDER BY version`, name);
  const aliasRows = yield* sql('SELECT alias, version FROM aliases WHERE name = ?', name);
  const byVersion = new Map<number, string[]>();
  for (const r of aliasRows) {
    const v = Number(r.version);
    byVersion.set(v, [...(byVersion.get(v) ?? []), String(r.alias)]);
  }
  return rows.map((r) => toModelVersion(r, byVersion.get(Number(r.version)) ?? []));
}

export function* modelsWork(): SqlWork<string[]> {
  const rows = yield* sql('SELECT name FROM registered_models ORDER BY name');
  return rows.map((r) => String(r.name));
}

/** The version an alias points to, or null (the watchers' cheap poll). */
export function* aliasVersionWork(name: string, alias: string): SqlWork<number | null> {
  return yield* aliasVersion(name, alias);
}

export function* historyWork(name: string, alias: string | undefined): SqlWork<AliasEvent[]> {
  yield* modelRow(name);
  const rows =
    alias === undefined
      ? yield* sql(`SELECT ${HISTORY_COLUMNS} FROM alias_history WHERE name = ? ORDER BY id`, name)
      : yield* sql(`SELECT ${HISTORY_COLUMNS} FROM alias_history WHERE name = ? AND alias = ? ORDER BY id`, name, alias);
  return rows.map(toAliasEvent);
}

export type AliasMove = { action: 'set'; version: number } | { action: 'rollback' } | { action: 'delete' };

/**
 * Move an alias under the model row lock; `changed` is false when it already pointed there
 * (nothing recorded, nobody notified).
 */
export function* moveAliasWork(
  d: SqlDriver,
  name: string,
  alias: string,
  move: AliasMove,
  opts: { reason: string; expectedVersion?: number | null; now: string },
): SqlWork<{ event: AliasEvent; changed: boolean }> {
  const last = yield* modelRow(name, d.forUpdate);
  const current = yield* aliasVersion(name, alias);
  if (opts.expectedVersion !== undefined && current !== opts.expectedVersion) {
    const expected = opts.expectedVersion === null ? 'to be unset' : `version ${opts.expectedVersion}`;
    const actual = current === null ? 'is unset' : `points to version ${current}`;
    throw new PctrError('PCTR_CONFLICT', `alias @${alias} of model ${q(name)} ${actual}, expected ${expected}: someone else moved it; re-read and retry`, {
      details: { name, alias, expectedVersion: opts.expectedVersion, currentVersion: current },
    });
  }
  let to: number | null;
  if (move.action === 'set') {
    if (move.version > last) throw unknownVersion(name, move.version, last);
    to = move.version;
  } else if (move.action === 'delete') {
    if (current === null) throw yield* unknownAlias(name, alias);
    to = null;
  } else {
    const steps = (yield* sql(`SELECT ${HISTORY_COLUMNS} FROM alias_history WHERE name = ? AND alias = ? ORDER BY id`, name, alias)).map(toAliasEvent);
    if (steps.length === 0) throw yield* unknownAlias(name, alias);
    to = rollbackTarget(steps, current);
    if (to === null) {
      throw new PctrError('PCTR_CONFLICT', `cannot roll back alias @${alias} of model ${q(name)}: no earlier version in its history (${current === null ? 'it is unset' : `it points to version ${current}`})`, {
        details: { name, alias, currentVersion: current },
      });
    }
  }
  const event: AliasEvent = { name, alias, action: move.action, fromVersion: current, toVersion: to, reason: opts.reason, at: opts.now };
  if (to === current) return { event, changed: false };
  if (to === null) {
    yield* sql('DELETE FROM aliases WHERE name = ? AND alias = ?', name, alias);
  } else {
    yield* sql(
      'INSERT INTO aliases (name, alias, version, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (name, alias) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at',
      name,
      alias,
      to,
      opts.now,
    );
  }
  yield* sql(`INSERT INTO alias_history (${HISTORY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`, ...historyRow(event));
  const notify = d.notifyQuery(name, alias);
  if (notify !== null) yield notify;
  return { event, changed: true };
}

/** The version registered under an idempotency key, or null (also when the model does not exist yet). */
export function* idempotentWork(name: string, key: string): SqlWork<ModelVersion | null> {
  const rows = yield* sql('SELECT version FROM model_versions WHERE name = ? AND idempotency_key = ?', name, key);
  return rows.length === 0 ? null : yield* versionWithAliases(name, Number(rows[0].version));
}
