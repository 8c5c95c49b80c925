/**
 * Models: the registry's versions with their offline metrics and lineage (GET /api/models), ROC and
 * reliability curves of the selected version on recent joined examples (GET /api/models/:v/curves),
 * the alias history, and promote / roll back buttons that ask for an admin key.
 */
import type { CurvesResponse, ModelVersionView, ModelsResponse } from '../../api/types.ts';
import { apiGet } from '../api.ts';
import { sortedByX } from '../chart-data.ts';
import { Chart } from '../charts.ts';
import { fill, h } from '../dom.ts';
import { dateTime, fixed, num, pct, pctTick } from '../format.ts';
import { versionColor } from '../palette.ts';
import { promote, rollback, type ActionOutcome } from './model-actions.ts';
import type { View } from './view.ts';

/** Offline metrics shown as columns, in this order when present. */
const METRIC_ORDER = ['auc', 'logloss', 'ne', 'calibration', 'rig'];

export class ModelsView implements View {
  readonly id = 'models';
  readonly title = 'Models';
  readonly live = true;
  private models: ModelsResponse | null = null;
  private selected: number | null = null;
  private roc: Chart | null = null;
  private reliability: Chart | null = null;
  private tableEl: HTMLElement | null = null;
  private detailEl: HTMLElement | null = null;
  private historyEl: HTMLElement | null = null;
  private statusEl: HTMLElement | null = null;
  private headEl: HTMLElement | null = null;
  /** What the DOM shows now: unchanged data is not redrawn, so a button is never swapped under a click. */
  private shown = '';

  mount(root: HTMLElement): void {
    this.shown = '';
    this.roc = new Chart({ id: 'model-roc', title: 'ROC curve', subtitle: 'recent joined examples', x: 'unit', xLabel: 'false positive rate', yLabel: 'true positive rate', yRange: [0, 1], height: 260 });
    this.reliability = new Chart({ id: 'model-reliability', title: 'Reliability', subtitle: 'observed CTR by predicted pCTR bucket', x: 'linear', square: true, xLabel: 'mean predicted pCTR', yLabel: 'observed CTR', xTick: pctTick, yTick: pctTick, xValue: (v) => pct(v, 3), yValue: (v) => pct(v, 3), height: 260 });
    this.tableEl = h('div', { class: 'table-wrap' }, h('p', { class: 'muted' }, 'loading…'));
    this.detailEl = h('div', { class: 'detail' });
    this.historyEl = h('div');
    this.statusEl = h('p', { id: 'action-status', class: 'action-status', role: 'status', hidden: true });
    this.headEl = h('div', { class: 'head-actions' });
    root.append(
      h('div', { class: 'page-head' }, h('h1', null, 'Models'), this.headEl),
      this.statusEl,
      h('section', { class: 'card' }, h('header', null, h('h3', null, 'Versions'), h('span', { class: 'sub' }, 'newest first · click a row for its curves')), this.tableEl),
      h('div', { class: 'grid three' }, this.roc.card, this.reliability.card, h('section', { class: 'card' }, h('header', null, h('h3', null, 'Lineage')), this.detailEl)),
      h('section', { class: 'card' }, h('header', null, h('h3', null, 'Alias history'), h('span', { class: 'sub' }, 'promotions and rollbacks, newest first')), this.historyEl),
    );
  }

  async refresh(): Promise<void> {
    const models = await apiGet<ModelsResponse>('/api/models');
    this.models = models;
    if (this.selected === null || !models.versions.some((v) => v.version === this.selected)) this.selected = models.champion ?? models.versions[0]?.version ?? null;
    this.render();
    await this.refreshCurves();
  }

  unmount(): void {
    this.roc?.destroy();
    this.reliability?.destroy();
    this.roc = this.reliability = null;
  }

  private async refreshCurves(): Promise<void> {
    if (this.selected === null || !this.roc || !this.reliability) return;
    const c = await apiGet<CurvesResponse>(`/api/models/${this.selected}/curves`);
    const label = `v${c.version}`;
    const color = versionColor(`${this.models?.name ?? 'ctr'}@${c.version}`);
    const roc = sortedByX(c.roc.fpr, c.roc.tpr);
    this.roc.setData(roc.x, [
      { label: `${label}${c.auc === null ? '' : ` AUC ${c.auc.toFixed(3)}`}`, color, values: roc.y },
      { label: 'random', color: '#94a3b8', values: roc.x, reference: true },
    ]);
    const rel = sortedByX(c.reliability.mean_pred, c.reliability.observed);
    // Which version the curves are of, for a reader of the DOM (the canvas does not say).
    this.roc.card.dataset.version = this.reliability.card.dataset.version = String(c.version);
    this.reliability.setData(rel.x, [
      { label: `${label} observed`, color, values: rel.y, points: true },
      { label: 'perfect', color: '#94a3b8', values: rel.x, reference: true },
    ]);
  }

  private render(): void {
    const m = this.models;
    if (!m || !this.tableEl || !this.detailEl || !this.historyEl || !this.headEl) return;
    const shown = JSON.stringify([m, this.selected]);
    if (shown === this.shown) return;
    this.shown = shown;
    fill(
      this.headEl,
      h('span', { class: 'pill champion' }, `champion ${m.champion === null ? 'none (prior serves)' : `v${m.champion}`}`),
      m.challenger === null ? null : h('span', { class: 'pill challenger' }, `challenger v${m.challenger}`),
      h('button', { id: 'rollback-champion', class: 'danger', type: 'button', disabled: m.champion === null, onclick: () => void this.act(rollback(m.name, 'champion', m.champion)) }, 'Roll back champion'),
    );
    fill(this.tableEl, this.versionsTable(m));
    const v = m.versions.find((x) => x.version === this.selected);
    fill(this.detailEl, v ? lineage(v, m.versions) : h('p', { class: 'muted' }, 'No versions registered yet: the prior model serves.'));
    fill(
      this.historyEl,
      m.history.length === 0
        ? h('p', { class: 'muted' }, 'No alias moves yet.')
        : h(
            'ul',
            { class: 'timeline' },
            m.history.slice(0, 12).map((e) =>
              h(
                'li',
                null,
                h('span', { class: 'when' }, dateTime(e.at)),
                h('span', { class: `pill ${e.alias}` }, e.alias),
                h('b', null, `${e.action} ${e.fromVersion === null ? '—' : `v${e.fromVersion}`} → ${e.toVersion === null ? '—' : `v${e.toVersion}`}`),
                h('span', { class: 'muted' }, e.reason),
              ),
            ),
          ),
    );
  }

  private versionsTable(m: ModelsResponse): HTMLElement {
    if (m.versions.length === 0) return h('p', { class: 'muted' }, 'No versions registered yet.');
    const keys = new Set(m.versions.flatMap((v) => Object.keys(v.metrics)));
    const metrics = [...METRIC_ORDER.filter((k) => keys.has(k)), ...[...keys].filter((k) => !METRIC_ORDER.includes(k)).sort()].slice(0, 5);
    const head = ['version', 'kind', 'created', 'aliases', ...metrics, 'training data', 'parent', 'run', ''];
    return h(
      'table',
      { class: 'table selectable', id: 'versions' },
      h('thead', null, h('tr', null, head.map((c) => h('th', { class: metrics.includes(c) ? 'n' : null }, c)))),
      h(
        'tbody',
        null,
        m.versions.map((v) =>
          h(
            'tr',
            { 'data-version': v.version, class: v.version === this.selected ? 'selected' : null, onclick: () => this.select(v.version) },
            h('td', null, h('span', { class: 'swatch', style: `background:${versionColor(`${m.name}@${v.version}`)}` }), h('b', null, `v${v.version}`)),
            h('td', null, v.kind),
            h('td', null, dateTime(v.createdAt)),
            h('td', { class: 'aliases' }, v.aliases.map((a) => h('span', { class: `pill ${a}` }, a))),
            metrics.map((k) => h('td', { class: 'n' }, k in v.metrics ? fixed(v.metrics[k], 4) : '—')),
            h('td', null, v.dataRange ? `${num(v.dataRange.rows)} rows` : '—'),
            h('td', null, v.parentVersion === null ? '—' : `v${v.parentVersion}`),
            h('td', { class: 'mono' }, v.runId ? v.runId.slice(0, 10) : '—'),
            h(
              'td',
              { class: 'row-actions' },
              v.aliases.includes('champion')
                ? null
                : h('button', { type: 'button', class: 'small', 'data-action': 'promote', onclick: (e: Event) => (e.stopPropagation(), void this.act(promote(m.name, v.version, m))) }, 'Promote…'),
            ),
          ),
        ),
      ),
    );
  }

  private select(version: number): void {
    this.selected = version;
    this.render();
    void this.refreshCurves().catch((e: unknown) => this.say({ ok: false, text: `curves of v${version}: ${e instanceof Error ? e.message : String(e)}` }));
  }

  private async act(action: Promise<ActionOutcome | null>): Promise<void> {
    const outcome = await action;
    if (outcome === null) return;
    this.say(outcome);
    if (outcome.ok) await this.refresh().catch(() => undefined);
  }

  private say(o: ActionOutcome): void {
    if (!this.statusEl) return;
    this.statusEl.hidden = false;
    this.statusEl.className = `action-status ${o.ok ? 'ok' : 'error'}`;
    this.statusEl.dataset.outcome = o.ok ? 'ok' : 'refused';
    // Counts outcomes, so a reader (or a test) can tell a new answer from the previous identical one.
    this.statusEl.dataset.seq = String(Number(this.statusEl.dataset.seq ?? '0') + 1);
    this.statusEl.textContent = o.text;
  }
}

/** The selected version's ancestry, training data and description. */
function lineage(v: ModelVersionView, all: readonly ModelVersionView[]): HTMLElement {
  const chain: ModelVersionView[] = [v];
  for (let p = v.parentVersion; p !== null && chain.length < 6; ) {
    const parent = all.find((x) => x.version === p);
    if (!parent) break;
    chain.push(parent);
    p = parent.parentVersion;
  }
  const params = Object.entries(v.params).slice(0, 8);
  return h(
    'div',
    null,
    h('div', { class: 'chain' }, chain.map((c, i) => [i > 0 ? h('span', { class: 'arrow' }, '←') : null, h('span', { class: 'pill version' }, `v${c.version} ${c.kind}`)])),
    h(
      'dl',
      { class: 'kv' },
      h('dt', null, 'data'),
      h('dd', null, v.dataRange ? `${num(v.dataRange.rows)} rows, ${dateTime(v.dataRange.from)} → ${dateTime(v.dataRange.to)}` : '—'),
      h('dt', null, 'run'),
      h('dd', { class: 'mono' }, v.runId ?? '—'),
      h('dt', null, 'digest'),
      h('dd', { class: 'mono' }, `${v.digest.slice(0, 12)}… (${num(v.sizeBytes)} B)`),
      h('dt', null, 'note'),
      h('dd', null, v.description ?? '—'),
      params.map(([k, p]) => [h('dt', null, k), h('dd', { class: 'mono' }, typeof p === 'object' ? JSON.stringify(p) : String(p))]),
    ),
  );
}
