/**
 * Features: how fresh the online store's aggregates are per entity type, and the population
 * stability index of every served feature (and of pCTR) against the champion's training data, as
 * bars against their thresholds (GET /api/features).
 */
import type { FeaturesResponse } from '../../api/types.ts';
import { apiGet } from '../api.ts';
import { fill, h } from '../dom.ts';
import { duration, fixed, num } from '../format.ts';
import { tile } from '../widgets.ts';
import type { View } from './view.ts';

/** Aggregates older than this are shown amber: the aggregator is behind. */
const STALE_S = 300;

export class FeaturesView implements View {
  readonly id = 'features';
  readonly title = 'Features';
  readonly live = true;
  private freshEl: HTMLElement | null = null;
  private driftEl: HTMLElement | null = null;
  private tilesEl: HTMLElement | null = null;

  mount(root: HTMLElement): void {
    this.freshEl = h('div', { class: 'bars', 'data-chart': 'feature-freshness', 'data-points': '0' });
    this.driftEl = h('div', { class: 'bars', 'data-chart': 'feature-drift', 'data-points': '0' });
    this.tilesEl = h('div', { class: 'tiles' });
    root.append(
      h('div', { class: 'page-head' }, h('h1', null, 'Features')),
      this.tilesEl,
      h(
        'div',
        { class: 'grid side' },
        h('section', { class: 'card' }, h('header', null, h('h3', null, 'Drift per feature'), h('span', { class: 'sub' }, 'PSI of served traffic vs the reference · line = threshold')), this.driftEl),
        h('section', { class: 'card' }, h('header', null, h('h3', null, 'Freshness'), h('span', { class: 'sub' }, 'age of the newest aggregate per entity')), this.freshEl),
      ),
    );
  }

  async refresh(): Promise<void> {
    const f = await apiGet<FeaturesResponse>('/api/features');
    this.drawTiles(f);
    this.drawDrift(f);
    this.drawFreshness(f);
  }

  unmount(): void {
    this.freshEl = this.driftEl = this.tilesEl = null;
  }

  private drawTiles(f: FeaturesResponse): void {
    if (!this.tilesEl) return;
    const pctrStatus = f.pctr_psi === null ? 'idle' : f.pctr_psi >= f.pctr_threshold ? 'alert' : f.pctr_psi >= f.pctr_threshold / 2 ? 'warn' : 'ok';
    const drifting = f.drift.filter((d) => d.status === 'alert' || d.status === 'warn').length;
    const ref = f.reference;
    fill(
      this.tilesEl,
      tile('pCTR PSI', fixed(f.pctr_psi, 3), `threshold ${fixed(f.pctr_threshold, 2)}`, pctrStatus),
      tile('drifting features', String(drifting), `of ${f.drift.length} served features`, drifting > 0 ? 'alert' : 'ok'),
      tile('drift window', duration(f.window_s * 1000), `${num(f.window_rows)} impressions`),
      tile('reference', ref.source === 'training-run' ? `v${ref.version ?? '?'}` : ref.source, ref.runId ? `run ${ref.runId.slice(0, 10)} · ${num(ref.rows)} rows` : `${num(ref.rows)} rows`),
    );
  }

  private drawDrift(f: FeaturesResponse): void {
    if (!this.driftEl) return;
    const rows = [...f.drift].sort((a, b) => (b.psi ?? -1) - (a.psi ?? -1));
    const max = Math.max(0.05, ...rows.map((d) => Math.max(d.psi ?? 0, d.threshold * 1.5)));
    this.driftEl.dataset.points = String(rows.filter((d) => d.psi !== null).length);
    fill(
      this.driftEl,
      rows.length === 0
        ? h('p', { class: 'muted' }, 'No served features yet.')
        : rows.map((d) =>
            h(
              'div',
              { class: `bar-row status-${d.status}`, 'data-feature': d.feature },
              h('span', { class: 'bar-label', title: `${d.kind} feature` }, d.feature),
              h(
                'span',
                { class: 'bar-track' },
                h('span', { class: 'bar', style: `width:${(((d.psi ?? 0) / max) * 100).toFixed(1)}%` }),
                h('span', { class: 'threshold', style: `left:${((d.threshold / max) * 100).toFixed(1)}%`, title: `threshold ${d.threshold}` }),
              ),
              h('span', { class: 'bar-value' }, d.psi === null ? 'n/a' : d.psi.toFixed(3)),
              h('span', { class: `pill ${d.status === 'insufficient' ? 'idle' : d.status}` }, d.status),
            ),
          ),
    );
  }

  private drawFreshness(f: FeaturesResponse): void {
    if (!this.freshEl) return;
    const max = Math.max(STALE_S * 1.2, ...f.freshness.map((e) => e.age_s ?? 0));
    this.freshEl.dataset.points = String(f.freshness.filter((e) => e.age_s !== null).length);
    fill(
      this.freshEl,
      f.freshness.length === 0
        ? h('p', { class: 'muted' }, 'No aggregates yet.')
        : f.freshness.map((e) => {
            const status = e.age_s === null ? 'idle' : e.age_s > STALE_S ? 'warn' : 'ok';
            return h(
              'div',
              { class: `bar-row status-${status}`, 'data-entity': e.entity },
              h('span', { class: 'bar-label' }, e.entity.replaceAll('_', ' ')),
              h('span', { class: 'bar-track' }, h('span', { class: 'bar', style: `width:${(((e.age_s ?? 0) / max) * 100).toFixed(1)}%` }), h('span', { class: 'threshold', style: `left:${((STALE_S / max) * 100).toFixed(1)}%` })),
              h('span', { class: 'bar-value' }, e.age_s === null ? 'never' : duration(e.age_s * 1000)),
            );
          }),
    );
  }
}
