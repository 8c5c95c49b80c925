/**
 * GET /api/overview: the seed's architecture diagram with live figures. Each box shows what a
 * person looking at that part of the loop wants first (rate, p99, lag, version, last run); every
 * box leads with a number that exists even before traffic (a rate or a count, 0 when idle), so the
 * diagram is never blank. A box is amber or red while an alert of its rule is active.
 */
import type { Monitor } from '../../monitoring/index.ts';
import type { ServingParts } from '../../serving/index.ts';
import type { Box, BoxId, Figure, Overview } from './types.ts';

const round = (x: number, digits = 2) => Number(x.toFixed(digits));
const perSec = (x: number | null) => round(x ?? 0, 1);
const pct = (x: number | null): number | string => (x === null ? '—' : round(100 * x, 2));
const maybe = (x: number | null, digits = 2): number | string => (x === null ? '—' : round(x, digits));

function ago(ms: number | null): number | string {
  return ms === null ? '—' : round(Math.max(0, ms) / 1000, 0);
}

export function overview(monitor: Monitor, serving: ServingParts): Overview {
  const now = monitor.now() ?? Date.now();
  const sampler = monitor.servingSampler;
  const rate = (name: Parameters<NonNullable<typeof sampler>['rate']>[0]) => perSec(sampler?.rate(name) ?? null);
  const p = (q: number) => {
    const s = sampler?.rankQuantile(q) ?? null;
    return s === null ? '—' : round(s * 1000, 2);
  };
  const state = monitor.state;
  const reg = state.registry;
  const champion = monitor.championLabel();
  const holder = serving.holder.status();
  const win = monitor.windowOf(champion);
  const recent = monitor.evaluator.recent(champion);
  const join = monitor.join();
  const joinStats = join.stats;
  const drift = monitor.driftReport();
  const drifting = drift.features.filter((f) => f.status === 'alert').length;
  const fresh = monitor.freshness()[0]?.ageMs ?? null;
  const log = serving.predictions.stats();
  const store = serving.features.status();
  const lastRun = state.runs.find((r) => r.status === 'succeeded' || r.status === 'failed') ?? null;
  const running = state.runs.filter((r) => r.status === 'running').length;
  const continuous = monitor.continuous();
  const lastMove = reg?.history.at(-1) ?? null;
  const totals = join.totals;
  const labels = totals.positives + totals.negatives;

  const figures: Record<BoxId, Figure[]> = {
    gateway: [
      { label: 'rank', value: rate('rank'), unit: 'req/s' },
      { label: 'p99', value: p(0.99), unit: 'ms' },
      { label: 'p50', value: p(0.5), unit: 'ms' },
      { label: '5xx', value: rate('serverErrors'), unit: '/s' },
    ],
    feature_store: [
      { label: 'reads', value: rate('featureReads'), unit: '/s' },
      { label: 'misses', value: rate('featureMisses'), unit: '/s' },
      { label: 'freshness', value: ago(fresh), unit: 's' },
      { label: 'drifting', value: drifting, unit: 'features' },
      { label: 'mode', value: store.status === 'degraded' ? 'degraded' : 'ok' },
    ],
    event_log: [
      { label: 'appended', value: rate('logAppended'), unit: 'rec/s' },
      { label: 'clicks in', value: rate('clicksAccepted'), unit: '/s' },
      { label: 'monitor lag', value: state.monitorBacklog ?? 0, unit: 'rec' },
    ],
    join: [
      { label: 'lag', value: maybe(join.lagMs === null ? null : join.lagMs / 1000, 1), unit: 's' },
      { label: 'backlog', value: join.backlog ?? 0, unit: 'rec' },
      { label: 'late', value: totals.late },
      { label: 'unknown', value: totals.unknown },
    ],
    model_server: [
      { label: 'scored', value: rate('candidates'), unit: 'cand/s' },
      { label: 'champion', value: holder.champion.label },
      { label: 'kind', value: holder.champion.kind },
      { label: 'online AUC', value: maybe(recent.auc, 4) },
      ...(holder.challenger ? [{ label: 'challenger', value: holder.challenger.label }] : []),
    ],
    post_process: [
      { label: 'served', value: rate('impressions'), unit: 'ads/s' },
      { label: 'calibration', value: maybe(win.calibration, 3) },
      { label: 'mean pCTR', value: pct(win.meanPctr), unit: '%' },
      { label: 'CTR', value: pct(win.ctr), unit: '%' },
    ],
    logging: [
      { label: 'logged', value: log.appended },
      { label: 'queued', value: log.queued },
      { label: 'dropped', value: log.dropped },
      { label: 'failures', value: log.failures },
    ],
    label_backfill: [
      { label: 'labels', value: labels },
      { label: 'label CTR', value: pct(labels > 0 ? totals.positives / labels : null), unit: '%' },
      ...(joinStats ? [{ label: 'pending', value: joinStats.pending }] : []),
      { label: 'online logloss', value: maybe(recent.logloss, 4) },
    ],
    training: [
      { label: 'recent runs', value: state.runs.length },
      { label: 'running', value: running },
      { label: 'last run', value: lastRun?.status ?? 'none' },
      { label: 'last run ago', value: ago(lastRun?.finishedAt == null ? null : Date.now() - lastRun.finishedAt), unit: 's' },
      ...(continuous ? [{ label: 'continuous', value: continuous.examples, unit: 'examples' }] : []),
    ],
    registry: [
      { label: 'versions', value: reg?.versions.length ?? 0 },
      { label: 'champion', value: reg?.champion?.version ?? 'none' },
      { label: 'moves', value: reg?.history.length ?? 0 },
      { label: 'last move', value: lastMove ? `${lastMove.action} ${lastMove.alias} → ${lastMove.toVersion ?? '—'}` : 'none' },
    ],
  };
  const active = monitor.alerts.active();
  const boxes = {} as Record<BoxId, Box>;
  for (const [id, figs] of Object.entries(figures) as [BoxId, Figure[]][]) {
    const mine = active.filter((a) => a.box === id);
    const status = mine.some((a) => a.severity === 'alert') ? 'alert' : mine.length > 0 ? 'warn' : 'ok';
    boxes[id] = { status, figures: figs };
  }
  return { at: now, boxes, alerts: active };
}
