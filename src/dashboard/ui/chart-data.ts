/** Pure helpers that shape API series for uPlot, which wants one shared, ascending x array. */

export interface XySeries {
  readonly x: readonly number[];
  readonly y: readonly number[];
}

/** Series with their own x values merged onto the sorted union of all x, `null` where a series has no point. */
export function alignSeries(series: readonly XySeries[]): { x: number[]; ys: (number | null)[][] } {
  const all = new Set<number>();
  for (const s of series) for (const x of s.x) if (Number.isFinite(x)) all.add(x);
  const x = [...all].sort((a, b) => a - b);
  const index = new Map(x.map((v, i) => [v, i]));
  const ys = series.map((s) => {
    const y: (number | null)[] = new Array<number | null>(x.length).fill(null);
    for (let i = 0; i < s.x.length; i++) {
      const at = index.get(s.x[i]);
      if (at !== undefined) y[at] = finiteOrNull(s.y[i]);
    }
    return y;
  });
  return { x, ys };
}

/** One series sorted by x (uPlot needs ascending x), dropping points where x or y is not a number. */
export function sortedByX(x: readonly number[], y: readonly number[]): { x: number[]; y: number[] } {
  const idx = [...x.keys()].filter((i) => Number.isFinite(x[i]) && Number.isFinite(y[i]));
  idx.sort((a, b) => x[a] - x[b]);
  return { x: idx.map((i) => x[i]), y: idx.map((i) => y[i]) };
}

export function finiteOrNull(v: number | null | undefined): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** Points a chart really draws: finite y values over every series. */
export function countPoints(ys: readonly (readonly (number | null)[])[]): number {
  let n = 0;
  for (const y of ys) for (const v of y) if (v !== null && Number.isFinite(v)) n++;
  return n;
}
