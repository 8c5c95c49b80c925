/**
 * Where the offline store keeps its files. Examples: `DIR/date=YYYY-MM-DD/hour=HH/<name>.parquet`
 * (hour of the example's event time, UTC); entity snapshots:
 * `DIR/snapshots/entity=<type>/date=…/hour=…/<ts>.parquet`. Files are written under `DIR/_tmp` and
 * renamed into place, so a reader never sees a partial file. Reads list the hour directories of
 * their range (partition pruning by path) and hand DuckDB exactly those files.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TimeRange } from './offline-store.ts';

export const HOUR_MS = 3_600_000;

export function hourOf(ts: number): number {
  return Math.floor(ts / HOUR_MS);
}

/** `date=YYYY-MM-DD/hour=HH` of an hour number (hours since the epoch). */
export function partitionOf(hour: number): string {
  const iso = new Date(hour * HOUR_MS).toISOString();
  return `date=${iso.slice(0, 10)}/hour=${iso.slice(11, 13)}`;
}

function partitionHour(dateDir: string, hourDir: string): number | null {
  const d = /^date=(\d{4}-\d{2}-\d{2})$/.exec(dateDir);
  const h = /^hour=(\d{2})$/.exec(hourDir);
  if (!d || !h) return null;
  const ms = Date.parse(`${d[1]}T${h[1]}:00:00Z`);
  return Number.isNaN(ms) ? null : hourOf(ms);
}

export function tmpDir(dir: string): string {
  return join(dir, '_tmp');
}

export function snapshotRoot(dir: string, entity: string): string {
  return join(dir, 'snapshots', `entity=${entity}`);
}

/** Parquet files of every hour partition under `root` whose hour intersects `range` (all hours when no range). */
export function partitionFiles(root: string, range?: TimeRange): string[] {
  if (!existsSync(root)) return [];
  const first = range ? hourOf(range.from) : -Infinity;
  const last = range ? hourOf(range.to - 1) : Infinity;
  const out: string[] = [];
  for (const dateDir of readdirSync(root).sort()) {
    if (!dateDir.startsWith('date=')) continue;
    const dayStart = Date.parse(`${dateDir.slice(5)}T00:00:00Z`);
    if (Number.isNaN(dayStart) || hourOf(dayStart) + 23 < first || hourOf(dayStart) > last) continue;
    for (const hourDir of readdirSync(join(root, dateDir)).sort()) {
      const hour = partitionHour(dateDir, hourDir);
      if (hour === null || hour < first || hour > last) continue;
      const path = join(root, dateDir, hourDir);
      for (const f of readdirSync(path).sort()) if (f.endsWith('.parquet') && !f.startsWith('.')) out.push(join(path, f));
    }
  }
  return out;
}

/** A path as a SQL string literal. */
export function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

/** A column name as a SQL identifier. */
export function sqlIdent(s: string): string {
  return `"${s.replaceAll('"', '""')}"`;
}
