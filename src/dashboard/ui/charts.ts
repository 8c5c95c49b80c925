/**
 * Charts: a card holding one uPlot line chart that views feed with plain arrays. uPlot draws on a
 * canvas, so the card also states what it drew — `data-chart` names it and `data-points` counts the
 * finite points plotted — which is what the browser test reads (and a reader of the DOM can trust).
 * The chart is rebuilt only when its series change (a new model version appears); otherwise
 * `setData` redraws in place, and a ResizeObserver keeps it as wide as its card.
 */
import uPlot from 'uplot';
import { countPoints, finiteOrNull } from './chart-data.ts';
import { h } from './dom.ts';
import { num, numTick, timeTick } from './format.ts';

export interface SeriesSpec {
  readonly label: string;
  readonly color: string;
  readonly values: readonly (number | null)[];
  /** Dashed, thin: reference lines (the diagonal, a threshold). */
  readonly reference?: boolean;
  /** Draw as steps with a light fill (counts per time bucket). */
  readonly steps?: boolean;
  /** Show a dot at each point (curves with few points). */
  readonly points?: boolean;
}

export interface ChartSpec {
  readonly id: string;
  readonly title: string;
  readonly subtitle?: string;
  /** `time`: x is epoch milliseconds; `unit`: x in [0, 1] (ROC); `linear`: fitted from 0. */
  readonly x: 'time' | 'unit' | 'linear';
  readonly xLabel?: string;
  readonly yLabel?: string;
  /** Axis ticks of x (not time) and y, given the tick step (default: plain numbers). */
  readonly xTick?: (v: number, step: number) => string;
  readonly yTick?: (v: number, step: number) => string;
  /** Values in the legend while hovering (default: `num`). */
  readonly xValue?: (v: number) => string;
  readonly yValue?: (v: number) => string;
  /** Fixed y range; default: fitted to the data. */
  readonly yRange?: readonly [number, number];
  /** x and y share one range from 0, so the diagonal is at 45° (reliability). */
  readonly square?: boolean;
  readonly height?: number;
}

/** Time tick steps in seconds: whole seconds and up, so no two ticks print the same clock time. */
const TIME_INCRS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];

const AXIS = { stroke: '#64748b', font: '11px system-ui, sans-serif', labelFont: '600 11px system-ui, sans-serif', grid: { stroke: '#eef1f5', width: 1 }, ticks: { stroke: '#e2e8f0', width: 1 } };

export class Chart {
  readonly card: HTMLElement;
  private readonly plotEl: HTMLElement;
  private readonly emptyEl: HTMLElement;
  private plot: uPlot | null = null;
  private signature = '';
  private readonly resize: ResizeObserver;
  /** Largest x or y value of the data, for square charts. */
  private extent = 1;

  constructor(private readonly spec: ChartSpec) {
    this.plotEl = h('div', { class: 'plot' });
    this.emptyEl = h('div', { class: 'empty' }, 'waiting for data…');
    this.card = h(
      'section',
      { class: 'card chart-card', 'data-chart': spec.id, 'data-points': '0' },
      h('header', null, h('h3', null, spec.title), spec.subtitle ? h('span', { class: 'sub' }, spec.subtitle) : null),
      h('div', { class: 'plot-wrap' }, this.plotEl, this.emptyEl),
    );
    this.resize = new ResizeObserver(() => this.plot?.setSize({ width: this.width(), height: this.height() }));
    this.resize.observe(this.plotEl);
  }

  /** Draw `series` over `x` (epoch ms for time charts). */
  setData(x: readonly number[], series: readonly SeriesSpec[]): void {
    const xs = this.spec.x === 'time' ? x.map((t) => t / 1000) : [...x];
    const ys = series.map((s) => s.values.map((v) => finiteOrNull(v)));
    const points = countPoints(ys.filter((_, i) => !series[i].reference));
    this.extent = Math.max(1e-9, ...xs, ...ys.flat().map((v) => v ?? 0)) * 1.05;
    this.card.dataset.points = String(points);
    this.emptyEl.hidden = points > 0;
    const data = [xs, ...ys] as uPlot.AlignedData;
    const signature = series.map((s) => `${s.label}|${s.color}`).join(',');
    if (this.plot === null || signature !== this.signature) {
      this.plot?.destroy();
      this.signature = signature;
      this.plot = new uPlot(this.options(series), data, this.plotEl);
    } else {
      this.plot.setData(data);
    }
  }

  destroy(): void {
    this.resize.disconnect();
    this.plot?.destroy();
    this.plot = null;
  }

  private width(): number {
    return Math.max(240, Math.floor(this.plotEl.clientWidth));
  }

  private height(): number {
    return this.spec.height ?? 220;
  }

  private options(series: readonly SeriesSpec[]): uPlot.Options {
    const { spec } = this;
    const yTick = spec.yTick ?? numTick;
    const yValue = spec.yValue ?? ((v: number) => num(v));
    const xTick = spec.xTick ?? numTick;
    const xValue = spec.xValue ?? ((v: number) => num(v));
    const square: uPlot.Range.Function = () => [0, this.extent];
    const xScale: uPlot.Scale =
      spec.x === 'time' ? { time: true } : spec.x === 'unit' ? { time: false, range: [0, 1] } : { time: false, range: spec.square ? square : (_u, _min, max) => [0, max === null ? 1 : max * 1.05] };
    const yScale: uPlot.Scale = spec.yRange ? { range: [spec.yRange[0], spec.yRange[1]] } : { range: spec.square ? square : (_u, min, max) => padRange(min, max) };
    const ticks = (format: (v: number, step: number) => string) => (_u: uPlot, splits: number[], _axis: number, _space: number, incr: number) => splits.map((v) => format(v, incr));
    return {
      width: this.width(),
      height: this.height(),
      padding: [8, 14, 0, 0],
      legend: { show: true, live: true },
      cursor: { drag: { x: spec.x === 'time', y: false }, points: { size: 6 } },
      scales: { x: xScale, y: yScale },
      axes: [
        { ...AXIS, label: spec.xLabel, labelSize: spec.xLabel ? 18 : 0, size: 30, space: 64, incrs: spec.x === 'time' ? TIME_INCRS : undefined, values: ticks(spec.x === 'time' ? timeTick : xTick) },
        { ...AXIS, label: spec.yLabel, labelSize: spec.yLabel ? 18 : 0, size: 56, values: ticks(yTick) },
      ],
      series: [
        spec.x === 'time' ? { label: 'time', value: (_u, v) => (v == null ? '—' : timeTick(v, 1)) } : { label: spec.xLabel ?? 'x', value: (_u, v) => (v == null ? '—' : xValue(v)) },
        ...series.map((s): uPlot.Series => ({
          label: s.label,
          stroke: s.color,
          width: s.reference ? 1 : 2,
          dash: s.reference ? [5, 4] : undefined,
          fill: s.steps ? `${s.color}22` : undefined,
          paths: s.steps ? uPlot.paths.stepped?.({ align: 1 }) : undefined,
          // Every point of sparse curves; otherwise only points with no neighbour, which a line cannot show.
          points: { show: true, size: 5, fill: s.color, filter: s.points === true ? null : isolatedPoints },
          spanGaps: !s.steps,
          value: (_u, v) => (v == null ? '—' : yValue(v)),
        })),
      ],
    };
  }
}

/** Indices of points whose neighbours are both missing. */
function isolatedPoints(u: uPlot, seriesIdx: number): number[] {
  const ys = u.data[seriesIdx];
  const out: number[] = [];
  for (let i = 0; i < ys.length; i++) if (ys[i] != null && ys[i - 1] == null && ys[i + 1] == null) out.push(i);
  return out;
}

/** A y range around the data with a little headroom, never collapsed to a line. */
function padRange(min: number | null, max: number | null): uPlot.Range.MinMax {
  if (min === null || max === null) return [0, 1];
  if (min === max) return min === 0 ? [0, 1] : [min * 0.9, max * 1.1];
  const pad = (max - min) * 0.08;
  return [min >= 0 && min - pad < 0 ? 0 : min - pad, max + pad];
}
