/**
 * Shared benchmark plumbing: flags, medians and percentiles, an aligned table on stdout, and the
 * `--json` convention (the same figures as one JSON object on the last line). Every benchmark that
 * imports this answers `--help` (or `-h`) with its usage, which is its opening doc comment, and exits
 * before measuring anything.
 */
import { readFileSync } from 'node:fs';

/** The opening `/** … *\/` comment of a script, as plain text; null when it has none. */
export function docComment(source: string): string | null {
  const m = /^(?:#![^\n]*\n)?\s*\/\*\*([\s\S]*?)\*\//.exec(source);
  if (!m) return null;
  return m[1]
    .split('\n')
    .map((l) => l.replace(/^\s*\* ?/, ''))
    .join('\n')
    .trim();
}

function printUsageAndExit(script: string): never {
  let text: string | null = null;
  try {
    text = docComment(readFileSync(script, 'utf8'));
  } catch {
    // An unreadable script still gets the generic line below.
  }
  process.stdout.write(`${text ?? `node --import tsx ${script} [--json]`}\n`);
  process.exit(0);
}

// At import, before the benchmark's own top-level code runs: `--help` must never start a measurement.
if (process.argv[1] && (process.argv.includes('--help') || process.argv.includes('-h'))) printUsageAndExit(process.argv[1]);

/** `--name value` or `--name=value` from argv, else `fallback`. */
export function flag(name: string, fallback: string): string {
  const argv = process.argv;
  for (let i = 2; i < argv.length; i++) {
    if (argv[i] === `--${name}` && i + 1 < argv.length) return argv[i + 1];
    if (argv[i].startsWith(`--${name}=`)) return argv[i].slice(name.length + 3);
  }
  return fallback;
}

export function hasFlag(name: string): boolean {
  return process.argv.includes(`--${name}`);
}

export function median(xs: readonly number[]): number {
  return percentile(xs, 0.5);
}

/** Nearest-rank percentile (q in [0, 1]); NaN for no samples. */
export function percentile(xs: ArrayLike<number>, q: number): number {
  const n = xs.length;
  if (n === 0) return NaN;
  const sorted = Float64Array.from(xs).sort();
  return sorted[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))];
}

/** Human figure: 1234567 → 1.23M, 12345 → 12.3k, 12.345 → 12.3. */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return '-';
  const a = Math.abs(x);
  if (a >= 1e6) return `${(x / 1e6).toFixed(2)}M`;
  if (a >= 1e4) return `${(x / 1e3).toFixed(1)}k`;
  if (a >= 100) return x.toFixed(0);
  return x.toFixed(a >= 10 ? 1 : 2);
}

/** Print rows as an aligned table (first column left-aligned, the rest right-aligned). */
export function printTable(title: string, header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  process.stdout.write(`\n${title}\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
  for (const r of rows) process.stdout.write(`${line(r)}\n`);
}

/** The `--json` convention: one JSON object on the last line of stdout. */
export function printJson(figures: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}
