import { z } from 'zod';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000 };

/** `250ms`, `5s`, `30m`, `1h`, `7d`, or a plain number of milliseconds → milliseconds. */
export function parseDuration(input: string | number): number {
  if (typeof input === 'number') return input;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d)?\s*$/.exec(input);
  if (!m) throw new Error(`not a duration: "${input}" (use e.g. 250ms, 5s, 30m, 1h, 7d)`);
  return Math.round(Number(m[1]) * UNITS[m[2] ?? 'ms']);
}

/** A zod schema accepting a duration string or number, giving milliseconds. */
export const Duration = z.union([z.number().nonnegative(), z.string()]).transform((v, ctx) => {
  try {
    return parseDuration(v);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
    return z.NEVER;
  }
});

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  if (ms < 3_600_000) return `${(ms / 60_000).toFixed(1)}m`;
  return `${(ms / 3_600_000).toFixed(1)}h`;
}
