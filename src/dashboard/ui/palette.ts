/**
 * Colors: one per model version, assigned in first-seen order and kept for the session, so a
 * version has the same color on every chart and table of every view.
 */
export const SERIES_COLORS = ['#2563eb', '#db2777', '#059669', '#d97706', '#7c3aed', '#0891b2', '#dc2626', '#4d7c0f'];

const assigned = new Map<string, string>();

export function versionColor(version: string | number): string {
  const key = String(version);
  let color = assigned.get(key);
  if (color === undefined) {
    color = SERIES_COLORS[assigned.size % SERIES_COLORS.length];
    assigned.set(key, color);
  }
  return color;
}

export const STATUS_COLORS = { ok: '#16a34a', warn: '#d97706', alert: '#dc2626', idle: '#94a3b8' } as const;
