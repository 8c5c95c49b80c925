/**
 * Prediction inspector: pick a recently served request (or edit one as JSON) and see how the
 * serving model ranks it — pCTR, eCPM and position per candidate, and for linear and factorization
 * models each feature's additive share of the logit as a diverging bar (POST /api/inspect; it
 * ranks without logging impressions). Not refreshed on a timer: it answers the user's clicks.
 */
import type { Contribution, InspectRanked, InspectResponse } from '../../api/types.ts';
import { apiPost } from '../api.ts';
import { fill, h } from '../dom.ts';
import { num, pct } from '../format.ts';
import type { View } from './view.ts';

/** Contributions listed per candidate (the API sorts them by |weight|). */
const TOP_FEATURES = 6;
/** The intercept: the same for every candidate, so it is stated once instead of drawn as a bar. */
const BIAS = '(bias)';

const features = (x: InspectRanked) => (x.contributions ?? []).filter((c) => c.feature !== BIAS).slice(0, TOP_FEATURES);

export class InspectorView implements View {
  readonly id = 'inspector';
  readonly title = 'Inspector';
  readonly live = false;
  private input: HTMLTextAreaElement | null = null;
  private resultEl: HTMLElement | null = null;
  private messageEl: HTMLElement | null = null;

  mount(root: HTMLElement): void {
    this.input = h('textarea', { id: 'inspect-request', spellcheck: 'false', rows: 24, placeholder: '{ "userId": "u1", "context": { … }, "candidates": [ … ], "k": 5 }' });
    this.messageEl = h('p', { class: 'form-error', role: 'alert', hidden: true });
    this.resultEl = h('div', { id: 'inspect-result' }, h('p', { class: 'muted' }, 'Pick a served request or paste one, then rank it.'));
    root.append(
      h('div', { class: 'page-head' }, h('h1', null, 'Prediction inspector')),
      h(
        'div',
        { class: 'grid side-left' },
        h(
          'section',
          { class: 'card' },
          h('header', null, h('h3', null, 'Request')),
          h(
            'div',
            { class: 'actions' },
            h('button', { id: 'inspect-sample', type: 'button', class: 'primary', onclick: () => void this.run({ sample: true }) }, 'Sample a served request'),
            h('button', { id: 'inspect-rank', type: 'button', onclick: () => void this.rankEdited() }, 'Rank this request'),
          ),
          this.input,
          this.messageEl,
        ),
        h('section', { class: 'card' }, h('header', null, h('h3', null, 'Ranking')), this.resultEl),
      ),
    );
  }

  refresh(): Promise<void> {
    return Promise.resolve();
  }

  unmount(): void {
    this.input = this.resultEl = this.messageEl = null;
  }

  private async rankEdited(): Promise<void> {
    let body: unknown;
    try {
      body = JSON.parse(this.input?.value ?? '');
    } catch (e) {
      this.error(`The request is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    await this.run(body);
  }

  private async run(body: unknown): Promise<void> {
    if (this.messageEl) this.messageEl.hidden = true;
    try {
      const r = await apiPost<InspectResponse>('/api/inspect', body);
      if (this.input) this.input.value = JSON.stringify(r.request, null, 2);
      if (this.resultEl) fill(this.resultEl, ranking(r));
    } catch (e) {
      this.error(e instanceof Error ? e.message : String(e));
    }
  }

  private error(text: string): void {
    if (!this.messageEl) return;
    this.messageEl.hidden = false;
    this.messageEl.textContent = text;
  }
}

function ranking(r: InspectResponse): HTMLElement {
  const candidates = Array.isArray(r.request.candidates) ? r.request.candidates.length : r.ranking.length;
  const maxP = Math.max(1e-9, ...r.ranking.map((x) => x.pCTR));
  const maxW = Math.max(1e-9, ...r.ranking.flatMap((x) => features(x).map((c) => Math.abs(c.weight))));
  const explained = r.ranking.some((x) => x.contributions && x.contributions.length > 0);
  const bars = r.ranking.reduce((n, x) => n + features(x).length, 0);
  const bias = r.ranking[0]?.contributions?.find((c) => c.feature === BIAS);
  return h(
    'div',
    null,
    h('p', { class: 'sub' }, h('span', { class: 'pill version' }, r.modelVersion), ` ${r.kind} · top ${r.ranking.length} of ${candidates} candidates`),
    h(
      'table',
      { class: 'table ranking', 'data-chart': 'inspect-ranking', 'data-points': String(r.ranking.length) },
      h('thead', null, h('tr', null, h('th', null, '#'), h('th', null, 'ad'), h('th', null, 'campaign'), h('th', { class: 'n' }, 'pCTR'), h('th', { class: 'n' }, 'eCPM'), explained ? h('th', null, 'top feature contributions (logit)') : null)),
      h(
        'tbody',
        null,
        r.ranking.map((x: InspectRanked) =>
          h(
            'tr',
            { 'data-ad': x.adId },
            h('td', null, String(x.position + 1)),
            h('td', { class: 'mono' }, x.adId),
            h('td', { class: 'mono' }, x.campaignId),
            h('td', { class: 'n pctr' }, h('span', { class: 'meter', style: `width:${((x.pCTR / maxP) * 60).toFixed(1)}px` }), pct(x.pCTR, 3)),
            h('td', { class: 'n' }, num(x.eCPM, 4)),
            explained ? h('td', null, contributions(features(x), maxW)) : null,
          ),
        ),
      ),
    ),
    explained
      ? h(
          'p',
          { class: 'muted small', 'data-chart': 'inspect-contributions', 'data-points': String(bars) },
          `Bars: each feature’s additive share of the logit before calibration (blue raises pCTR, red lowers it)${bias ? `; the intercept adds ${bias.weight.toFixed(3)} to every candidate` : ''}.`,
        )
      : h('p', { class: 'muted small' }, `A ${r.kind} model has no additive per-feature explanation.`),
  );
}

function contributions(list: readonly Contribution[], maxW: number): HTMLElement {
  return h(
    'div',
    { class: 'contribs' },
    list.map((c) => {
      const w = (Math.abs(c.weight) / maxW) * 50;
      return h(
        'div',
        { class: 'contrib', title: `${c.feature} = ${String(c.value)}: ${c.weight >= 0 ? '+' : ''}${c.weight.toFixed(4)}` },
        h('span', { class: 'c-name' }, c.feature),
        h('span', { class: 'c-axis' }, h('span', { class: `c-bar ${c.weight >= 0 ? 'pos' : 'neg'}`, style: c.weight >= 0 ? `left:50%;width:${w.toFixed(1)}%` : `right:50%;width:${w.toFixed(1)}%` })),
        h('span', { class: 'c-val' }, `${c.weight >= 0 ? '+' : ''}${c.weight.toFixed(3)}`),
      );
    }),
  );
}
