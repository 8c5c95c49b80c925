/**
 * The dashboard in a real browser (playwright-core driving Debian's Chromium) against the whole
 * system: `pctr start --sim` in a child process — gateway, join, aggregates, training, registry,
 * monitor, simulator traffic through the HTTP API. Every page is opened the way a person would
 * (the key prompt first), every chart must have drawn data points (each chart states its count in
 * `data-points`), every box of the live diagram must show a number, and promote/rollback must work
 * through the UI with an admin key and be refused, with the gateway's reason on the page, with a
 * client key or none. Screenshots of every page go to test-artifacts/dashboard/.
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startDashboardSystem, type DashboardSystem } from './helpers/dashboard-system.ts';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic', '--headless'];
const ARTIFACTS = fileURLToPath(new URL('../test-artifacts/dashboard/', import.meta.url));
/** Data arrives as the simulator drives traffic: pages refresh every second in the test. */
const DATA_TIMEOUT = 45_000;

let system: DashboardSystem;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  system = await startDashboardSystem();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  // Chromium also logs every 4xx answer as a console error; refusals are expected here (and checked on the page).
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) pageErrors.push(m.text());
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await system?.stop();
});

afterEach(() => {
  expect(pageErrors, 'errors in the page').toEqual([]);
});

/** Open a view and wait until its first refresh has landed. */
async function open(view: string): Promise<void> {
  await page.goto(`${system.url}/dashboard/?refresh=1000#/${view}`);
  await page.waitForSelector(`[data-view="${view}"][data-loaded="true"]`, { timeout: DATA_TIMEOUT });
}

/** Wait until every chart of the view has drawn at least `min` data points; returns the counts. */
async function chartsHaveData(view: string, min = 1): Promise<Record<string, number>> {
  const counts = () => page.$$eval(`[data-view="${view}"] [data-chart]`, (els) => Object.fromEntries(els.map((e) => [String(e.dataset.chart), Number(e.dataset.points)])));
  // Evaluated in the page (as text: this file is compiled without the DOM's types).
  await page
    .waitForFunction(
      `(() => { const charts = [...document.querySelectorAll('[data-view="${view}"] [data-chart]')];
        return charts.length > 0 && charts.every((c) => Number(c.dataset.points) >= ${min}); })()`,
      null,
      { timeout: DATA_TIMEOUT, polling: 250 },
    )
    .catch(async (e: unknown) => {
      throw new Error(`charts of ${view} did not reach ${min} data points each: ${JSON.stringify(await counts())}`, { cause: e });
    });
  return counts();
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true });
}

/** Fill the admin-key dialog (`key` '' = leave it empty) and confirm; resolves with the outcome line. */
async function answerAdminPrompt(key: string): Promise<{ outcome: string; text: string }> {
  await page.waitForSelector('#admin-key[open]');
  await page.fill('#admin-key-input', key);
  const before = await page.$eval('#action-status', (e) => String(e.dataset.seq ?? '0'));
  await page.click('#admin-key-confirm');
  await page.waitForFunction(`(document.querySelector('#action-status').dataset.seq ?? '0') !== '${before}'`, null, { timeout: DATA_TIMEOUT });
  return page.$eval('#action-status', (e) => ({ outcome: String(e.dataset.outcome ?? ''), text: String(e.textContent ?? '') }));
}

/** Text of the figures of every diagram box. */
function boxFigures(): Promise<{ id: string; status: string; text: string }[]> {
  return page.$$eval('[data-box]', (els) => els.map((e) => ({ id: String(e.dataset.box), status: String(e.dataset.status), text: String(e.querySelector('.figures')?.textContent ?? '') })));
}

/** The headline number of a diagram box (its first figure), or NaN. */
const HEADLINE = (box: string) => `parseFloat((document.querySelector('[data-box="${box}"] .headline b')?.textContent ?? '').replace(/,/g, ''))`;

describe('dashboard in a browser', () => {
  it('asks for an API key, then shows the live architecture diagram with a number in every box', async () => {
    await page.goto(`${system.url}/dashboard/?refresh=1000`);
    await page.waitForSelector('#key-dialog[open]');
    await page.fill('#key-dialog-input', system.clientKey);
    await page.click('#key-dialog-confirm');
    await page.waitForSelector('[data-view="home"][data-loaded="true"]', { timeout: DATA_TIMEOUT });
    // Simulator traffic reaches the gateway: its request rate is the gateway box's headline.
    await page.waitForFunction(`${HEADLINE('gateway')} > 0`, null, { timeout: DATA_TIMEOUT, polling: 250 });
    const boxes = await boxFigures();
    expect(boxes.map((b) => b.id).sort()).toEqual(['event_log', 'feature_store', 'gateway', 'join', 'label_backfill', 'logging', 'model_server', 'post_process', 'registry', 'training']);
    for (const b of boxes) {
      expect(b.text, `box ${b.id}`).toMatch(/\d/);
      expect(['ok', 'warn', 'alert'], `box ${b.id}`).toContain(b.status);
    }
  });

  it('draws requests, CTR, mean pCTR and calibration per model version, and the A/B table', async () => {
    await open('traffic');
    const charts = await chartsHaveData('traffic', 3);
    expect(Object.keys(charts).sort()).toEqual(['traffic-calibration', 'traffic-ctr', 'traffic-pctr', 'traffic-requests']);
    await page.waitForSelector('[data-view="traffic"] .ab tbody tr');
    const rows = await page.$$eval('[data-view="traffic"] .ab tbody tr', (els) => els.map((e) => String(e.textContent)));
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) expect(r).toMatch(/\d+\.\d+%/);
    await shot('traffic');
  });

  it('shows versions with ROC and reliability curves; promote and rollback need an admin key', async () => {
    const { champion, target } = await system.promotion();
    await open('models');
    await chartsHaveData('models', 3);
    const promoteButton = `#versions tr[data-version="${target}"] button[data-action="promote"]`;
    await page.waitForSelector(promoteButton);

    await page.click(promoteButton);
    const none = await answerAdminPrompt('');
    expect(none.outcome).toBe('refused');
    expect(none.text).toMatch(/401/);

    await page.click(promoteButton);
    const client = await answerAdminPrompt(system.clientKey);
    expect(client.outcome).toBe('refused');
    expect(client.text).toMatch(/403.*admin key/);
    await shot('models-refused');

    await page.click(promoteButton);
    const admin = await answerAdminPrompt(system.adminKey);
    expect(admin.outcome, admin.text).toBe('ok');
    expect(admin.text).toContain(`champion moved: v${champion} → v${target}`);
    await page.waitForSelector(`#versions tr[data-version="${target}"] .pill.champion`, { timeout: DATA_TIMEOUT });
    await shot('models-promoted');

    await page.click('#rollback-champion');
    const refusedRollback = await answerAdminPrompt(system.clientKey);
    expect(refusedRollback.outcome).toBe('refused');
    await page.click('#rollback-champion');
    const rolled = await answerAdminPrompt(system.adminKey);
    expect(rolled.outcome, rolled.text).toBe('ok');
    expect(rolled.text).toContain(`champion rolled back: v${target} → v${champion}`);
    await page.waitForSelector(`#versions tr[data-version="${champion}"] .pill.champion`, { timeout: DATA_TIMEOUT });

    // The registry's history holds exactly the two moves made through the UI with the admin key.
    const ours = (await system.aliasHistory()).filter((e) => e.reason.includes('through the gateway'));
    expect(ours.map((e) => [e.action, e.fromVersion, e.toVersion])).toEqual([
      ['set', champion, target],
      ['rollback', target, champion],
    ]);
  });

  it('shows feature freshness and drift per feature', async () => {
    await open('features');
    const charts = await chartsHaveData('features');
    expect(charts['feature-drift']).toBeGreaterThan(1);
    await shot('features');
  });

  it('shows join lag, labels, and late and unknown clicks over time', async () => {
    await open('join');
    await chartsHaveData('join', 3);
    const tiles = await page.$$eval('[data-view="join"] .tile-value', (els) => els.map((e) => String(e.textContent)));
    expect(tiles).toHaveLength(5);
    await shot('join');
  });

  it('shows training runs as DAGs with step states and durations', async () => {
    await open('pipeline');
    await chartsHaveData('pipeline');
    await page.waitForSelector('[data-view="pipeline"] [data-run] [data-step]');
    const steps = await page.$$eval('[data-view="pipeline"] [data-run]:first-of-type [data-step]', (els) => els.map((e) => String(e.getAttribute('class'))));
    expect(steps.length).toBeGreaterThan(1);
    for (const cls of steps) expect(cls).toMatch(/pending|running|succeeded|failed/);
    await shot('pipeline');
  });

  it('ranks a sampled request in the inspector with pCTR, eCPM and per-feature contributions', async () => {
    await open('inspector');
    await page.click('#inspect-sample');
    await page.waitForSelector('#inspect-result table.ranking tbody tr', { timeout: DATA_TIMEOUT });
    const charts = await chartsHaveData('inspector');
    expect(charts['inspect-ranking']).toBeGreaterThan(0);
    expect(charts['inspect-contributions']).toBeGreaterThan(0);
    const pctrs = await page.$$eval('#inspect-result tbody td.pctr', (els) => els.map((e) => parseFloat(String(e.textContent).replace('%', ''))));
    expect(pctrs).toHaveLength(charts['inspect-ranking']);
    expect(pctrs.every((p) => p > 0 && p < 100)).toBe(true);
    expect(JSON.parse(await page.inputValue('#inspect-request'))).toHaveProperty('candidates');
    await shot('inspector');
  });

  it('shows the newest version, trained by the running system when it has registered one, with its curves', async () => {
    await open('models');
    const newest = await page.$eval('#versions tbody tr', (e) => Number(e.dataset.version));
    await page.click(`#versions tr[data-version="${newest}"]`);
    await page.waitForSelector(`#versions tr.selected[data-version="${newest}"]`);
    await page.waitForSelector(`[data-chart="model-roc"][data-version="${newest}"]`, { timeout: DATA_TIMEOUT });
    await chartsHaveData('models', 3);
    await shot('models');
  });

  it('shows the whole loop live on the home page once it has run', async () => {
    await open('home');
    // Labels have been joined and the pipeline has run: the last boxes of the loop have real figures too.
    await page.waitForFunction(`${HEADLINE('label_backfill')} > 0 && ${HEADLINE('training')} > 0`, null, { timeout: DATA_TIMEOUT, polling: 250 });
    for (const b of await boxFigures()) expect(b.text, `box ${b.id}`).toMatch(/\d/);
    await shot('home');
  });
});
