/**
 * The dashboard's shell: navigation between views (`#/traffic`…), the API key prompt, the alert
 * banner, and the refresh loop. Only the visible view refreshes — one or two /api calls every
 * REFRESH_MS while the tab is visible, none while hidden — and the banner reads /api/alerts on a
 * slower beat (the home view's overview already carries the alerts). After each refresh the view's
 * root says so (`data-loaded`, `data-refreshes`), which is what a reader or a browser test can wait on.
 */
import type { Alert, AlertsResponse } from '../api/types.ts';
import { ApiError, apiGet, storeKey, storedKey } from './api.ts';
import { promptKey } from './dialog.ts';
import { byId, fill, h } from './dom.ts';
import { clock } from './format.ts';
import { alertLines } from './widgets.ts';
import { FeaturesView } from './views/features.ts';
import { HomeView } from './views/home.ts';
import { InspectorView } from './views/inspector.ts';
import { JoinView } from './views/join.ts';
import { ModelsView } from './views/models.ts';
import { PipelineView } from './views/pipeline.ts';
import { TrafficView } from './views/traffic.ts';
import type { View } from './views/view.ts';

/** Refresh period; `?refresh=ms` overrides it (≥ 500). */
const REFRESH_MS = Math.max(500, Number(new URLSearchParams(window.location.search).get('refresh') ?? 5000) || 5000);
/** Banner refresh, in refreshes, on views that do not bring alerts themselves. */
const BANNER_EVERY = 3;

const views: View[] = [new HomeView(), new TrafficView(), new ModelsView(), new FeaturesView(), new JoinView(), new PipelineView(), new InspectorView()];

let current: View | null = null;
let root: HTMLElement | null = null;
let timer: ReturnType<typeof setTimeout> | null = null;
let refreshes = 0;
let generation = 0;
let askingKey: Promise<void> | null = null;

function viewFromHash(): View {
  const id = window.location.hash.replace(/^#\/?/, '');
  return views.find((v) => v.id === id) ?? views[0];
}

function setLive(state: 'live' | 'error' | 'paused' | 'connecting', text: string): void {
  const live = byId('live');
  live.dataset.state = state;
  byId('live-text').textContent = text;
}

function showAlerts(alerts: readonly Alert[]): void {
  const banner = byId('banner');
  if (alerts.length === 0) {
    banner.hidden = true;
    banner.replaceChildren();
    return;
  }
  const worst = alerts.some((a) => a.severity === 'alert') ? 'alert' : 'warn';
  const lines = alertLines(alerts);
  banner.hidden = false;
  banner.className = `banner ${worst}`;
  fill(
    banner,
    h('b', null, `${alerts.length} active alert${alerts.length === 1 ? '' : 's'}`),
    lines.slice(0, 3).map((a) => h('span', { class: 'banner-item', 'data-alert': a.id, title: a.message }, h('i', { class: `dot ${a.severity}` }), h('span', null, a.message))),
    lines.length > 3 ? h('span', { class: 'banner-item' }, `and ${lines.length - 3} more`) : null,
    h('a', { href: '#/home' }, 'overview →'),
  );
}

async function askKey(error?: string): Promise<void> {
  askingKey ??= (async () => {
    const key = await promptKey({
      id: 'key-dialog',
      title: 'Connect to the gateway',
      message: 'The dashboard reads the gateway’s /api with an API key (client or admin). It is kept in this tab’s session storage only.',
      confirm: 'Connect',
      error,
    });
    if (key !== null && key !== '') storeKey(key);
    askingKey = null;
  })();
  return askingKey;
}

async function refresh(): Promise<void> {
  if (!current || !root) return;
  const view = current;
  const gen = generation;
  try {
    await view.refresh();
    if (gen !== generation) return;
    refreshes++;
    root.dataset.loaded = 'true';
    root.dataset.refreshes = String(refreshes);
    root.querySelector('.view-error')?.remove();
    setLive('live', `live · ${clock(Date.now())}`);
    if (view.id !== 'home' && refreshes % BANNER_EVERY === 1) void refreshBanner();
  } catch (e) {
    if (gen !== generation) return;
    if (e instanceof ApiError && e.needsKey) {
      setLive('error', 'no key');
      await askKey(storedKey() === '' ? undefined : `The gateway refused the key: ${e.message}`);
      if (storedKey() !== '') return refresh();
      return;
    }
    const text = e instanceof Error ? e.message : String(e);
    setLive('error', 'error');
    const box = root.querySelector('.view-error') ?? root.insertBefore(h('p', { class: 'view-error', role: 'alert' }), root.firstChild);
    box.textContent = `Could not refresh ${view.title}: ${text}`;
  }
}

/** The banner on views without alerts of their own; a failure leaves the last banner up (the view reports errors). */
async function refreshBanner(): Promise<void> {
  try {
    showAlerts((await apiGet<AlertsResponse>('/api/alerts')).active);
  } catch {
    return;
  }
}

function schedule(): void {
  if (timer !== null) clearTimeout(timer);
  timer = setTimeout(() => void loop(), REFRESH_MS);
}

async function loop(): Promise<void> {
  if (document.hidden) {
    setLive('paused', 'paused (tab hidden)');
  } else if (current?.live) {
    await refresh();
  }
  schedule();
}

function show(view: View): void {
  if (timer !== null) clearTimeout(timer);
  current?.unmount();
  generation++;
  current = view;
  const fresh = h('div', { class: 'view', 'data-view': view.id });
  byId('view').replaceChildren(fresh);
  root = fresh;
  view.mount(fresh, { showAlerts });
  for (const a of byId('nav').querySelectorAll('a')) a.classList.toggle('active', a.dataset.view === view.id);
  document.title = `pctr · ${view.title}`;
  if (!view.live) {
    fresh.dataset.loaded = 'true';
    setLive('live', 'on demand');
  }
  void refresh().then(schedule);
}

function boot(): void {
  fill(
    byId('nav'),
    views.map((v) => h('a', { href: `#/${v.id}`, 'data-view': v.id }, v.title)),
  );
  byId('key-button').addEventListener('click', () => void askKey().then(() => current && show(current)));
  window.addEventListener('hashchange', () => show(viewFromHash()));
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && current?.live) void refresh();
  });
  const start = () => show(viewFromHash());
  if (storedKey() === '') void askKey().then(start);
  else start();
}

boot();
