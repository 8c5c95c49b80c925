import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, silentLogger } from '../core/index.ts';
import { createEventLog } from '../events/index.ts';
import { MemoryOnlineStore } from '../features/index.ts';
import { createRegistry } from '../registry/index.ts';
import { buildApp } from '../serving/index.ts';
import { tempDir } from '../../test/helpers/services.ts';
import { buildDashboard, dashboardDigest } from './build.ts';
import { dashboardUi, registerDashboardStatic } from './static.ts';

const tmp = tempDir('dashboard-static');
afterAll(() => tmp.remove());

describe('dashboard bundle', () => {
  it('builds once per source digest, also when several processes race to build it', async () => {
    const outDir = join(tmp.dir, 'race');
    const [a, b] = await Promise.all([buildDashboard({ outDir }), buildDashboard({ outDir })]);
    expect(a.dir).toBe(b.dir);
    expect(a.digest).toBe(dashboardDigest());
    expect(readdirSync(a.dir).sort()).toEqual(['app.js', 'app.js.map', 'favicon.svg', 'index.html', 'styles.css', 'styles.css.map']);
    // No temporary directories are left behind by the loser of the race.
    expect(readdirSync(outDir)).toEqual([a.digest]);
    const again = await buildDashboard({ outDir });
    expect(again).toMatchObject({ dir: a.dir, built: false });
  });

  it('bundles uPlot and the styles locally: the page loads nothing from the network', async () => {
    const { dir } = await buildDashboard({ outDir: join(tmp.dir, 'race') });
    const html = readFileSync(join(dir, 'index.html'), 'utf8');
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(readFileSync(join(dir, 'app.js'), 'utf8')).not.toMatch(/import\s*\(?["']https?:/);
    const css = readFileSync(join(dir, 'styles.css'), 'utf8');
    expect(css).toContain('.uplot');
    expect(css).not.toMatch(/@import/);
  });
});

describe('dashboard static routes', () => {
  it('serves the page and bundle under /dashboard/ and redirects /dashboard', async () => {
    const app = Fastify();
    const bundle = await registerDashboardStatic(app, { outDir: join(tmp.dir, 'serve') });
    try {
      expect(bundle !== null && existsSync(bundle.dir)).toBe(true);
      const redirect = await app.inject({ url: '/dashboard' });
      expect(redirect.statusCode).toBe(301);
      expect(redirect.headers.location).toBe('/dashboard/');
      const page = await app.inject({ url: '/dashboard/' });
      expect(page.statusCode).toBe(200);
      expect(page.headers['content-type']).toMatch(/text\/html/);
      expect(page.body).toContain('src="app.js"');
      const js = await app.inject({ url: '/dashboard/app.js' });
      expect(js.statusCode).toBe(200);
      expect(js.headers['content-type']).toMatch(/javascript/);
      expect((await app.inject({ url: '/dashboard/styles.css' })).headers['content-type']).toMatch(/text\/css/);
      expect((await app.inject({ url: '/dashboard/../build.ts' })).statusCode).toBeGreaterThanOrEqual(400);
    } finally {
      await app.close();
    }
  });

  it('answers 500 with the reason, and leaves the rest of the app up, when the bundle cannot be built', async () => {
    const blocker = join(tmp.dir, 'not-a-directory');
    writeFileSync(blocker, '');
    const app = Fastify({ logger: false });
    app.get('/healthz', () => ({ status: 'ok' }));
    try {
      expect(await registerDashboardStatic(app, { outDir: join(blocker, 'out') })).toBeNull();
      const page = await app.inject({ url: '/dashboard/' });
      expect(page.statusCode).toBe(500);
      expect(page.body).toContain('the dashboard is unavailable on this gateway');
      expect(page.body).toContain('not-a-directory');
      expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('is public on the gateway while the API keeps its keys', async () => {
    const dir = join(tmp.dir, 'gateway');
    const config = loadConfig({
      env: {},
      overrides: {
        dataDir: dir,
        logLevel: 'silent',
        'events.url': `file:${join(dir, 'events')}`,
        'registry.url': `sqlite:${join(dir, 'registry.db')}`,
        'registry.artifacts': join(dir, 'artifacts'),
        'gateway.apiKeys': 'k-client:client,k-admin:admin',
      },
    });
    const registry = await createRegistry({ url: config.registry.url, artifacts: config.registry.artifacts, logger: silentLogger });
    const events = await createEventLog(config.events);
    const store = new MemoryOnlineStore();
    const app = await buildApp({ config, store, events, registry, plugins: [dashboardUi({ outDir: join(tmp.dir, 'serve') })] });
    try {
      const page = await app.inject({ url: '/dashboard/' });
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('<main id="view"');
      expect((await app.inject({ url: '/dashboard/app.js' })).statusCode).toBe(200);
      expect((await app.inject({ url: '/v1/admin/config' })).statusCode).toBe(401);
      // The static routes stay out of the OpenAPI document.
      const doc = (await app.inject({ url: '/docs/json' })).json() as { paths: Record<string, unknown> };
      expect(Object.keys(doc.paths).some((p) => p.startsWith('/dashboard'))).toBe(false);
    } finally {
      await app.close();
      await Promise.all([events.close(), registry.close(), store.close()]);
    }
  });
});
