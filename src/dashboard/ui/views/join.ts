/**
 * Join: how far the label join's watermark trails the newest impression, its backlog, and per time
 * bucket the labels it emitted and the clicks it could not use (late: after the attribution window;
 * unknown: no impression to attach to) — GET /api/join.
 */
import type { JoinResponse } from '../../api/types.ts';
import { apiGet } from '../api.ts';
import { Chart } from '../charts.ts';
import { fill, h } from '../dom.ts';
import { duration, num, numTick, pct } from '../format.ts';
import { tile } from '../widgets.ts';
import type { View } from './view.ts';

/** Lag beyond which the tile turns amber (the join's own alert has its configured threshold). */
const LAG_WARN_S = 120;

export class JoinView implements View {
  readonly id = 'join';
  readonly title = 'Join';
  readonly live = true;
  private lag: Chart | null = null;
  private misses: Chart | null = null;
  private labels: Chart | null = null;
  private tilesEl: HTMLElement | null = null;

  mount(root: HTMLElement): void {
    this.lag = new Chart({ id: 'join-lag', title: 'Watermark lag', subtitle: 'event-time seconds behind the newest impression', x: 'time', yTick: (v, step) => `${numTick(v, step)} s`, yValue: (v) => `${num(v)} s` });
    this.misses = new Chart({ id: 'join-misses', title: 'Late and unknown clicks', subtitle: 'per bucket', x: 'time' });
    this.labels = new Chart({ id: 'join-labels', title: 'Labels emitted', subtitle: 'positive and negative examples per bucket', x: 'time' });
    this.tilesEl = h('div', { class: 'tiles' });
    root.append(h('div', { class: 'page-head' }, h('h1', null, 'Join & label backfill')), this.tilesEl, h('div', { class: 'grid three' }, this.lag.card, this.labels.card, this.misses.card));
  }

  async refresh(): Promise<void> {
    const j = await apiGet<JoinResponse>('/api/join');
    const t = j.totals;
    const labeled = t.positives + t.negatives;
    if (this.tilesEl) {
      fill(
        this.tilesEl,
        tile('watermark lag', j.lag_s === null ? '—' : duration(j.lag_s * 1000), 'event time', j.lag_s === null ? 'idle' : j.lag_s > LAG_WARN_S ? 'warn' : 'ok'),
        tile('backlog', num(j.backlog), 'records not yet joined'),
        tile('labels', num(labeled), `${pct(labeled === 0 ? null : t.positives / labeled)} positive`),
        tile('late clicks', num(t.late), 'after the attribution window', t.late > 0 ? 'warn' : 'ok'),
        tile('unknown clicks', num(t.unknown), 'no matching impression', t.unknown > 0 ? 'warn' : 'ok'),
      );
    }
    const s = j.series;
    this.lag?.setData(s.ts, [{ label: 'lag (s)', color: '#2563eb', values: s.lag_s }]);
    this.labels?.setData(s.ts, [
      { label: 'negatives', color: '#64748b', values: s.negatives, steps: true },
      { label: 'positives', color: '#059669', values: s.positives, steps: true },
    ]);
    this.misses?.setData(s.ts, [
      { label: 'late', color: '#d97706', values: s.late, steps: true },
      { label: 'unknown', color: '#dc2626', values: s.unknown, steps: true },
    ]);
  }

  unmount(): void {
    for (const c of [this.lag, this.misses, this.labels]) c?.destroy();
    this.lag = this.misses = this.labels = null;
  }
}
