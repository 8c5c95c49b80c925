/** Number and time formatting shared by every view: short, aligned, and honest about missing data. */

const DASH = '—';

function finite(v: number | null | undefined): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** 1234 → "1,234"; 1234567 → "1.23M"; 0.01234 → "0.0123"; 12.5 → "12.5". */
export function num(v: number | null | undefined, digits = 3): string {
  if (!finite(v)) return DASH;
  const a = Math.abs(v);
  if (a >= 1e9) return `${(v / 1e9).toPrecision(3)}G`;
  if (a >= 1e6) return `${(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e4) return `${(v / 1e3).toPrecision(3)}k`;
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  if (a >= 100) return v.toFixed(0);
  if (a === 0) return '0';
  return Number(v.toPrecision(digits)).toString();
}

/** A rate as a percentage: 0.01234 → "1.23%". */
export function pct(v: number | null | undefined, digits = 2): string {
  return finite(v) ? `${(v * 100).toFixed(digits)}%` : DASH;
}

/** Fixed decimals: ratio(0.98765) → "0.988". */
export function fixed(v: number | null | undefined, digits = 3): string {
  return finite(v) ? v.toFixed(digits) : DASH;
}

/** A duration in milliseconds, in the largest sensible unit: "850 ms", "4.2 s", "3 m 20 s", "2 h 5 m". */
export function duration(ms: number | null | undefined): string {
  if (!finite(ms)) return DASH;
  const a = Math.abs(ms);
  if (a < 1) return `${ms.toFixed(2)} ms`;
  if (a < 10) return `${ms.toFixed(1)} ms`;
  if (a < 1000) return `${Math.round(ms)} ms`;
  if (a < 60_000) return `${(ms / 1000).toFixed(a < 10_000 ? 1 : 0)} s`;
  const sign = ms < 0 ? '-' : '';
  // Round once, then split, so 59.6 s past a minute reads "2 m", not "1 m 60 s".
  const [unit, bu, su] = a < 3_600_000 ? ([1000, 'm', 's'] as const) : ([60_000, 'h', 'm'] as const);
  const total = Math.round(a / unit);
  const big = Math.floor(total / 60);
  const rest = total % 60;
  return rest === 0 ? `${sign}${big} ${bu}` : `${sign}${big} ${bu} ${rest} ${su}`;
}

/** A time as "14:05:09" (local). */
export function clock(t: number | string | null | undefined): string {
  if (t === null || t === undefined) return DASH;
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? DASH : d.toLocaleTimeString('en-GB', { hour12: false });
}

/** A date and time as "2024-01-01 14:05" (local). */
export function dateTime(t: number | string | null | undefined): string {
  if (t === null || t === undefined) return DASH;
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return DASH;
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** How long ago `t` was, relative to `now`: "12 s ago". */
export function ago(t: number | string | null | undefined, now = Date.now()): string {
  if (t === null || t === undefined) return DASH;
  const ms = now - new Date(t).getTime();
  return Number.isFinite(ms) ? `${duration(Math.max(0, ms))} ago` : DASH;
}

/** A figure from the overview with its unit: (0.0123, '%') → "1.23%", (412, 'req/s') → "412 req/s". */
export function figure(value: number | string, unit?: string): string {
  // A figure not known yet comes as a dash: no unit after it.
  if (typeof value === 'string') return unit && value !== DASH ? `${value} ${unit}` : value;
  // The overview sends percentages already scaled (2.13 with unit % is 2.13%).
  if (unit === '%') return `${num(value)}%`;
  if (unit === 'ms' || unit === 's') return duration(unit === 's' ? value * 1000 : value);
  return unit ? `${num(value)} ${unit}` : num(value);
}

/** Decimals that tell ticks `step` apart: step 0.25 → 2, step 5 → 0. */
function tickDecimals(step: number): number {
  if (!(step > 0) || !Number.isFinite(step)) return 2;
  return Math.min(4, Math.max(0, Math.ceil(-Math.log10(step) - 1e-9)));
}

/** An axis tick of a plain number, with just enough decimals for the tick step. */
export function numTick(v: number, step: number): string {
  if (Math.abs(v) >= 1e4) return num(v);
  return v.toFixed(tickDecimals(step));
}

/** An axis tick of a rate shown as a percentage, with just enough decimals for the tick step. */
export function pctTick(v: number, step: number): string {
  return `${(v * 100).toFixed(tickDecimals(step * 100))}%`;
}

/** An axis tick of a time (epoch seconds, uPlot's unit): "14:05", with seconds when ticks are closer than a minute. */
export function timeTick(sec: number, stepSec: number): string {
  const d = new Date(sec * 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  const hm = `${p(d.getHours())}:${p(d.getMinutes())}`;
  return stepSec < 60 ? `${hm}:${p(d.getSeconds())}` : hm;
}
