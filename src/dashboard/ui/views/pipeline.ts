/**
 * Pipeline: recent training runs (GET /api/pipeline), each drawn as its DAG of steps colored by
 * state with duration and attempts, the gate's decision (promoted or kept the champion, and why),
 * and a chart of run durations over time.
 */
import type { PipelineResponse, PipelineRun, PipelineStep } from '../../api/types.ts';
import { apiGet } from '../api.ts';
import { sortedByX } from '../chart-data.ts';
import { Chart } from '../charts.ts';
import { layoutDag } from '../dag-layout.ts';
import { fill, h, s } from '../dom.ts';
import { dateTime, duration, numTick } from '../format.ts';
import type { View } from './view.ts';

/** Runs drawn as DAGs (newest first); the duration chart covers every run the API returns. */
const RUNS_SHOWN = 6;

export class PipelineView implements View {
  readonly id = 'pipeline';
  readonly title = 'Pipeline';
  readonly live = true;
  private durations: Chart | null = null;
  private runsEl: HTMLElement | null = null;

  mount(root: HTMLElement): void {
    this.durations = new Chart({ id: 'pipeline-durations', title: 'Run duration', subtitle: 'wall-clock seconds per training run, by start time', x: 'time', yTick: (v, step) => `${numTick(v, step)} s`, yValue: (v) => `${v.toFixed(1)} s`, height: 180 });
    this.runsEl = h('div', { class: 'runs' }, h('p', { class: 'muted' }, 'loading…'));
    root.append(h('div', { class: 'page-head' }, h('h1', null, 'Training pipeline')), this.durations.card, this.runsEl);
  }

  async refresh(): Promise<void> {
    const p = await apiGet<PipelineResponse>('/api/pipeline');
    const finished = p.runs.filter((r) => r.startedAt !== null && r.finishedAt !== null);
    const d = sortedByX(
      finished.map((r) => r.startedAt!),
      finished.map((r) => (r.finishedAt! - r.startedAt!) / 1000),
    );
    this.durations?.setData(d.x, [{ label: 'duration (s)', color: '#7c3aed', values: d.y, points: true }]);
    if (this.runsEl) {
      const runs = [...p.runs].sort((a, b) => (b.startedAt ?? Infinity) - (a.startedAt ?? Infinity)).slice(0, RUNS_SHOWN);
      fill(this.runsEl, runs.length === 0 ? h('section', { class: 'card' }, h('p', { class: 'muted' }, 'No training runs yet.')) : runs.map(runCard));
    }
  }

  unmount(): void {
    this.durations?.destroy();
    this.durations = null;
  }
}

function runCard(run: PipelineRun): HTMLElement {
  const took = run.startedAt !== null && run.finishedAt !== null ? duration(run.finishedAt - run.startedAt) : run.status === 'running' ? 'running…' : '—';
  const gate = run.gate;
  return h(
    'section',
    { class: `card run status-${run.status}`, 'data-run': run.id },
    h(
      'header',
      null,
      h('h3', null, run.pipeline, h('span', { class: 'mono sub' }, ` ${run.id.slice(0, 12)}`)),
      h('span', { class: `pill ${run.status}` }, run.status),
      h('span', { class: 'sub' }, `${run.trigger} · started ${dateTime(run.startedAt)} · ${took}`),
    ),
    dag(run.steps),
    gate
      ? h('p', { class: `gate ${gate.promoted ? 'promoted' : 'kept'}` }, h('b', null, gate.promoted ? `Promoted${gate.version === null ? '' : ` v${gate.version}`}` : 'Champion kept'), ` — ${gate.reason}`)
      : null,
    run.error ? h('p', { class: 'form-error' }, run.error) : null,
  );
}

const SIZES = { nodeW: 150, nodeH: 50, gapX: 40, gapY: 12 };

function dag(steps: readonly PipelineStep[]): SVGSVGElement {
  const layout = layoutDag(steps, SIZES);
  const byName = new Map(steps.map((st) => [st.name, st]));
  const pad = 4;
  return s(
    'svg',
    { class: 'dag', viewBox: `${-pad} ${-pad} ${layout.width + 2 * pad} ${layout.height + 2 * pad}`, width: layout.width + 2 * pad, height: layout.height + 2 * pad, role: 'img', 'aria-label': 'pipeline steps' },
    s('defs', null, s('marker', { id: 'dag-arrow', viewBox: '0 0 10 10', refX: '9', refY: '5', markerWidth: '6', markerHeight: '6', orient: 'auto' }, s('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrow-head' }))),
    layout.edges.map((e) => s('path', { d: e.path, class: `dag-edge ${byName.get(e.from)?.status ?? ''}`, 'marker-end': 'url(#dag-arrow)' })),
    layout.nodes.map((n) => {
      const st = byName.get(n.name)!;
      const detail = [st.duration_ms === null ? (st.status === 'running' ? 'running…' : st.status) : duration(st.duration_ms), st.attempts > 1 ? `${st.attempts} attempts` : null].filter(Boolean).join(' · ');
      return s(
        'g',
        { class: `dag-node ${st.status}`, 'data-step': st.name, transform: `translate(${n.x},${n.y})` },
        s('title', null, st.error ? `${st.name}: ${st.error}` : st.name),
        s('rect', { width: SIZES.nodeW, height: SIZES.nodeH, rx: 9 }),
        s('circle', { cx: 14, cy: 17, r: 4.5, class: 'state' }),
        s('text', { x: 25, y: 21, class: 'step-name' }, st.name),
        s('text', { x: 14, y: 39, class: 'step-detail' }, detail),
      );
    }),
  );
}
