/**
 * Traffic & CTR: request rate, CTR, mean pCTR and calibration over event time, one line per model
 * version (GET /api/traffic), and the A/B table of the versions serving now with 95% intervals
 * (GET /api/ab), drawn as a small forest plot so overlapping intervals are visible at a glance.
 */
import type { AbResponse, AbVersion, TrafficResponse, TrafficSeries } from '../../api/types.ts';
import { apiGet } from '../api.ts';
import { alignSeries } from '../chart-data.ts';
import { Chart, type SeriesSpec } from '../charts.ts';
import { fill, h, s } from '../dom.ts';
import { duration, fixed, num, pct, pctTick } from '../format.ts';
import { versionColor } from '../palette.ts';
import type { View } from './view.ts';

const MINUTES = 60;

type Metric = 'requests' | 'ctr' | 'mean_pctr' | 'calibration';

export class TrafficView implements View {
  readonly id = 'traffic';
  readonly title = 'Traffic & CTR';
  readonly live = true;
  private charts: Record<Metric, Chart> | null = null;
  private abEl: HTMLElement | null = null;
  private stepEl: HTMLElement | null = null;

  mount(root: HTMLElement): void {
    this.charts = {
      requests: new Chart({ id: 'traffic-requests', title: 'Requests', subtitle: 'rank requests per second, by model version', x: 'time' }),
      ctr: new Chart({ id: 'traffic-ctr', title: 'CTR', subtitle: 'clicks ÷ impressions (recent buckets fill in as clicks arrive)', x: 'time', yTick: pctTick, yValue: (v) => pct(v, 3) }),
      mean_pctr: new Chart({ id: 'traffic-pctr', title: 'Mean pCTR', subtitle: 'mean predicted CTR of served impressions', x: 'time', yTick: pctTick, yValue: (v) => pct(v, 3) }),
      calibration: new Chart({ id: 'traffic-calibration', title: 'Calibration', subtitle: 'mean pCTR ÷ CTR (1 = calibrated)', x: 'time', yValue: (v) => v.toFixed(3) }),
    };
    this.abEl = h('div', { class: 'ab' }, h('p', { class: 'muted' }, 'loading…'));
    this.stepEl = h('span', { class: 'sub' }, `last ${MINUTES} minutes of event time`);
    root.append(
      h('div', { class: 'page-head' }, h('h1', null, 'Traffic & CTR'), this.stepEl),
      h('div', { class: 'grid two' }, Object.values(this.charts).map((c) => c.card)),
      h('section', { class: 'card' }, h('header', null, h('h3', null, 'A/B comparison'), h('span', { class: 'sub' }, 'versions serving now, 95% intervals')), this.abEl),
    );
  }

  async refresh(): Promise<void> {
    const [traffic, ab] = await Promise.all([apiGet<TrafficResponse>(`/api/traffic?minutes=${MINUTES}`), apiGet<AbResponse>('/api/ab')]);
    this.drawTraffic(traffic);
    if (this.abEl) fill(this.abEl, abTable(ab));
  }

  unmount(): void {
    if (this.charts) for (const c of Object.values(this.charts)) c.destroy();
    this.charts = null;
  }

  private drawTraffic(t: TrafficResponse): void {
    if (!this.charts) return;
    const series = [...t.series].sort((a, b) => a.version.localeCompare(b.version, 'en', { numeric: true }));
    const perSecond = 1000 / t.step_ms;
    const pick = (metric: Metric, scale = 1) => alignSeries(series.map((v: TrafficSeries) => ({ x: v.ts, y: v[metric].map((y) => (y === null ? NaN : y * scale)) })));
    const specs = (ys: (number | null)[][]): SeriesSpec[] => series.map((v, i) => ({ label: v.version, color: versionColor(v.version), values: ys[i] }));
    const requests = pick('requests', perSecond);
    this.charts.requests.setData(requests.x, specs(requests.ys));
    for (const metric of ['ctr', 'mean_pctr'] as const) {
      const a = pick(metric);
      this.charts[metric].setData(a.x, specs(a.ys));
    }
    const cal = pick('calibration');
    this.charts.calibration.setData(cal.x, [...specs(cal.ys), { label: 'calibrated', color: '#94a3b8', values: cal.x.map(() => 1), reference: true }]);
    if (this.stepEl) this.stepEl.textContent = `last ${MINUTES} minutes of event time · ${duration(t.step_ms)} buckets`;
  }
}

/** The A/B table with a CTR interval plot on one scale for all rows. */
function abTable(ab: AbResponse): HTMLElement {
  if (ab.versions.length === 0) return h('p', { class: 'muted' }, 'No impressions in the window yet.');
  const lo = Math.min(...ab.versions.map((v) => v.ctr_ci[0]));
  const hi = Math.max(...ab.versions.map((v) => v.ctr_ci[1]));
  const row = (v: AbVersion) =>
    h(
      'tr',
      { 'data-version': v.version },
      h('td', null, h('span', { class: 'swatch', style: `background:${versionColor(v.version)}` }), v.version),
      h('td', null, v.alias ? h('span', { class: `pill ${v.alias}` }, v.alias) : null),
      h('td', { class: 'n' }, num(v.impressions)),
      h('td', { class: 'n' }, num(v.clicks)),
      h('td', { class: 'n' }, pct(v.ctr)),
      h('td', { class: 'ci' }, ciPlot(v, lo, hi), h('small', null, `${pct(v.ctr_ci[0])} – ${pct(v.ctr_ci[1])}`)),
      h('td', { class: 'n' }, pct(v.mean_pctr)),
      h('td', { class: 'n' }, fixed(v.calibration, 3)),
      h('td', { class: 'n' }, fixed(v.logloss, 4)),
      h('td', { class: 'n' }, fixed(v.auc, 4)),
      h('td', { class: 'n' }, num(v.examples)),
    );
  const d = ab.diff;
  return h(
    'div',
    null,
    h(
      'table',
      { class: 'table' },
      h('thead', null, h('tr', null, ['version', 'role', 'impressions', 'clicks', 'CTR', 'CTR 95% CI', 'mean pCTR', 'calibration', 'logloss', 'AUC', 'examples'].map((c, i) => h('th', { class: i >= 2 && i !== 5 ? 'n' : null }, c)))),
      h('tbody', null, ab.versions.map(row)),
    ),
    d
      ? h(
          'p',
          { class: `diff ${d.significant ? 'significant' : ''}` },
          h('b', null, `${d.b} − ${d.a}: `),
          `${d.ctr_diff >= 0 ? '+' : ''}${(d.ctr_diff * 100).toFixed(3)} pp CTR, 95% CI [${(d.ci[0] * 100).toFixed(3)}, ${(d.ci[1] * 100).toFixed(3)}] pp · `,
          h('span', { class: `pill ${d.significant ? 'ok' : 'idle'}` }, d.significant ? 'significant' : 'not significant'),
        )
      : h('p', { class: 'muted diff' }, 'One version serving: no comparison.'),
    h('p', { class: 'muted small' }, `Sliding window of ${duration(ab.window_s * 1000)} (event time); logloss and AUC over each version's joined examples.`),
  );
}

function ciPlot(v: AbVersion, lo: number, hi: number): SVGSVGElement {
  const W = 120;
  const pad = (hi - lo) * 0.1 || 0.001;
  const x = (p: number) => (((p - (lo - pad)) / (hi - lo + 2 * pad)) * W).toFixed(1);
  const color = versionColor(v.version);
  return s(
    'svg',
    { class: 'ci-plot', viewBox: `0 0 ${W} 14`, width: W, height: 14 },
    s('line', { x1: x(v.ctr_ci[0]), x2: x(v.ctr_ci[1]), y1: 7, y2: 7, stroke: color, 'stroke-width': 2 }),
    s('line', { x1: x(v.ctr_ci[0]), x2: x(v.ctr_ci[0]), y1: 3, y2: 11, stroke: color }),
    s('line', { x1: x(v.ctr_ci[1]), x2: x(v.ctr_ci[1]), y1: 3, y2: 11, stroke: color }),
    v.ctr === null ? null : s('circle', { cx: x(v.ctr), cy: 7, r: 3.5, fill: color }),
  );
}
