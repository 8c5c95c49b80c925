/**
 * Home: the architecture diagram, live. One GET /api/overview per refresh fills every box's figures
 * and status (amber on warn, red on alert) and the list of active alerts under it.
 */
import type { Overview } from '../../api/types.ts';
import { apiGet } from '../api.ts';
import { fill, h } from '../dom.ts';
import { clock, dateTime } from '../format.ts';
import { alertList } from '../widgets.ts';
import { createDiagram, type Diagram } from './diagram.ts';
import type { View, ViewContext } from './view.ts';

export class HomeView implements View {
  readonly id = 'home';
  readonly title = 'Overview';
  readonly live = true;
  private diagram: Diagram | null = null;
  private alertsEl: HTMLElement | null = null;
  private stampEl: HTMLElement | null = null;
  private ctx: ViewContext | null = null;

  mount(root: HTMLElement, ctx: ViewContext): void {
    this.ctx = ctx;
    this.diagram = createDiagram();
    this.alertsEl = h('div');
    this.stampEl = h('span', { class: 'sub' }, 'loading…');
    root.append(
      h('div', { class: 'page-head' }, h('h1', null, 'The loop, live'), this.stampEl),
      h('section', { class: 'card diagram-card' }, this.diagram.el),
      h('section', { class: 'card' }, h('header', null, h('h3', null, 'Active alerts')), this.alertsEl),
    );
  }

  async refresh(): Promise<void> {
    const o = await apiGet<Overview>('/api/overview');
    this.diagram?.update(o.boxes);
    if (this.alertsEl) fill(this.alertsEl, alertList(o.alerts, 'No active alerts: every rule is within its threshold.'));
    if (this.stampEl) this.stampEl.textContent = `event time ${dateTime(o.at)} · updated ${clock(Date.now())}`;
    this.ctx?.showAlerts(o.alerts);
  }

  unmount(): void {
    this.diagram = null;
  }
}
