/**
 * The architecture diagram of the home page, as SVG: the loop from the client through serving,
 * logging and the join to training and the registry, which hot-swaps models back into the model
 * server. Box geometry is a fixed grid in viewBox units so the drawing scales as one picture;
 * each live box's content is HTML (foreignObject) that `update` refills from /api/overview.
 */
import type { Box, BoxId } from '../../api/types.ts';
import { h, s } from '../dom.ts';
import { figure } from '../format.ts';

interface Node {
  readonly id: BoxId | 'client' | 'load_balancer';
  readonly title: string;
  readonly col: number;
  readonly row: number;
  /** Outside pctr: drawn without figures. */
  readonly note?: string;
}

/** The loop, in the order the arrows follow. */
export const DIAGRAM_NODES: readonly Node[] = [
  { id: 'client', title: 'Client', col: 0, row: 0, note: 'apps, simulator' },
  { id: 'load_balancer', title: 'Load balancer', col: 1, row: 0, note: 'spreads requests over gateways' },
  { id: 'gateway', title: 'Gateway', col: 2, row: 0 },
  { id: 'feature_store', title: 'Feature store', col: 3, row: 0 },
  { id: 'event_log', title: 'Event log', col: 4, row: 0 },
  { id: 'join', title: 'Join', col: 4, row: 1 },
  { id: 'model_server', title: 'Model server', col: 3, row: 1 },
  { id: 'post_process', title: 'Post-process', col: 2, row: 1 },
  { id: 'logging', title: 'Logging', col: 1, row: 1 },
  { id: 'label_backfill', title: 'Label backfill', col: 1, row: 2 },
  { id: 'training', title: 'Training pipeline', col: 2, row: 2 },
  { id: 'registry', title: 'Registry', col: 3, row: 2 },
];

const EDGES: readonly [string, string, string?][] = [
  ['client', 'load_balancer'],
  ['load_balancer', 'gateway'],
  ['gateway', 'feature_store'],
  ['feature_store', 'event_log'],
  ['event_log', 'join'],
  ['join', 'model_server'],
  ['model_server', 'post_process'],
  ['post_process', 'logging'],
  ['logging', 'label_backfill'],
  ['label_backfill', 'training'],
  ['training', 'registry'],
  ['registry', 'model_server', 'hot swap'],
];

const COL_W = 236;
const ROW_H = 178;
const BOX_W = 196;
const BOX_H = 118;
const MARGIN = 20;
export const DIAGRAM_WIDTH = MARGIN * 2 + COL_W * 4 + BOX_W;
export const DIAGRAM_HEIGHT = MARGIN * 2 + ROW_H * 2 + BOX_H;

const pos = (n: Node) => ({ x: MARGIN + n.col * COL_W, y: MARGIN + n.row * ROW_H });

/** Path from box `a`'s edge to box `b`'s edge (boxes are on one row or one column). */
function edgePath(a: Node, b: Node): string {
  const pa = pos(a);
  const pb = pos(b);
  if (a.row === b.row) {
    const y = pa.y + BOX_H / 2;
    const [x1, x2] = a.col < b.col ? [pa.x + BOX_W, pb.x] : [pa.x, pb.x + BOX_W];
    return `M${x1},${y} L${x2 + (a.col < b.col ? -3 : 3)},${y}`;
  }
  const x = pa.x + BOX_W / 2;
  const [y1, y2] = a.row < b.row ? [pa.y + BOX_H, pb.y] : [pa.y, pb.y + BOX_H];
  return `M${x},${y1} L${x},${y2 + (a.row < b.row ? -3 : 3)}`;
}

export interface Diagram {
  readonly el: SVGSVGElement;
  update(boxes: Readonly<Record<BoxId, Box>>): void;
}

export function createDiagram(): Diagram {
  const byId = new Map(DIAGRAM_NODES.map((n) => [n.id, n]));
  const bodies = new Map<string, { group: SVGGElement; body: HTMLElement }>();
  const svg = s(
    'svg',
    { class: 'diagram', viewBox: `0 0 ${DIAGRAM_WIDTH} ${DIAGRAM_HEIGHT}`, role: 'img', 'aria-label': 'pctr architecture, live' },
    s('defs', null, s('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: '8', refY: '5', markerWidth: '7', markerHeight: '7', orient: 'auto-start-reverse' }, s('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrow-head' }))),
  );
  for (const [from, to, label] of EDGES) {
    const a = byId.get(from as Node['id'])!;
    const b = byId.get(to as Node['id'])!;
    const d = edgePath(a, b);
    svg.append(s('path', { d, class: 'edge-track' }), s('path', { d, class: label ? 'edge flow hot' : 'edge flow', 'marker-end': 'url(#arrow)' }));
    if (label) {
      const p = pos(a);
      svg.append(s('text', { x: p.x + BOX_W / 2 + 10, y: p.y - (ROW_H - BOX_H) / 2 + 4, class: 'edge-label' }, label));
    }
  }
  for (const n of DIAGRAM_NODES) {
    const { x, y } = pos(n);
    const body = h('div', { class: 'box-body' }, h('div', { class: 'box-title' }, h('i', { class: 'dot' }), n.title), n.note ? h('div', { class: 'box-note' }, n.note) : h('div', { class: 'figures' }, h('span', { class: 'muted' }, '…')));
    const fo = s('foreignObject', { x, y, width: BOX_W, height: BOX_H });
    fo.append(body);
    const group = s('g', n.note ? { class: 'node external' } : { class: 'node status-unknown', 'data-box': n.id }, s('rect', { x, y, width: BOX_W, height: BOX_H, rx: 12, class: 'box-frame' }), fo);
    svg.append(group);
    bodies.set(n.id, { group, body });
  }
  svg.append(legend());

  return {
    el: svg,
    update(boxes) {
      for (const n of DIAGRAM_NODES) {
        if (n.note) continue;
        const box = boxes[n.id as BoxId];
        const slot = bodies.get(n.id)!;
        slot.group.setAttribute('class', `node status-${box?.status ?? 'unknown'}`);
        slot.group.setAttribute('data-status', box?.status ?? 'unknown');
        const figs = slot.body.querySelector('.figures')!;
        figs.replaceChildren(...figuresOf(box));
      }
    },
  };
}

function figuresOf(box: Box | undefined): HTMLElement[] {
  if (!box || box.figures.length === 0) return [h('span', { class: 'muted' }, 'no figures')];
  const [head, ...rest] = box.figures;
  return [
    h('div', { class: 'headline', title: head.label }, h('b', null, figure(head.value, head.unit)), h('span', null, head.label)),
    ...rest.slice(0, 3).map((f) => h('div', { class: 'fig' }, h('span', null, f.label), h('b', null, figure(f.value, f.unit)))),
  ];
}

function legend(): SVGGElement {
  const x = MARGIN + 6;
  const y = MARGIN + ROW_H + 30;
  const item = (dy: number, cls: string, text: string) =>
    s('g', { class: `legend-item ${cls}` }, s('circle', { cx: x + 6, cy: y + dy, r: 6 }), s('text', { x: x + 20, y: y + dy + 4 }, text));
  return s(
    'g',
    { class: 'legend' },
    s('text', { x, y: y - 18, class: 'legend-title' }, 'Box status'),
    item(0, 'ok', 'healthy'),
    item(24, 'warn', 'warning (amber)'),
    item(48, 'alert', 'alert (red)'),
    s('text', { x, y: y + 86, class: 'legend-note' }, 'Figures refresh every few seconds;'),
    s('text', { x, y: y + 102, class: 'legend-note' }, 'times are event time.'),
  );
}
