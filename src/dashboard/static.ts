/**
 * Serves the dashboard's page and bundle at /dashboard/ (@fastify/static), building the bundle from
 * source first when it is missing or out of date (see build.ts). The files are public — no key, like
 * /docs — because they hold no data: the page asks its user for an API key and sends it on every
 * /api call. `/dashboard` redirects to `/dashboard/` so the page's relative URLs resolve.
 *
 * A dashboard that cannot be built must not stop the gateway from serving ads: the bundle goes to
 * the system's temporary directory when the repository's dist/ is not writable, and if it still
 * cannot be built, /dashboard answers 500 with the reason and the error is logged.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { PctrError, errorMessage } from '../core/index.ts';
import type { GatewayPlugin } from '../serving/index.ts';
import { buildDashboard, type DashboardBundle } from './build.ts';

export const DASHBOARD_PREFIX = '/dashboard';

export interface DashboardStaticOptions {
  /** Where bundles are built (default: dist/dashboard in the repository, else the temporary directory). */
  readonly outDir?: string;
}

async function bundleFor(opts: DashboardStaticOptions): Promise<DashboardBundle> {
  if (opts.outDir !== undefined) return buildDashboard({ outDir: opts.outDir });
  try {
    return await buildDashboard();
  } catch {
    return buildDashboard({ outDir: join(tmpdir(), 'pctr-dashboard') });
  }
}

/** Register the /dashboard routes on `app`; resolves with the bundle served (null when it could not be built). */
export async function registerDashboardStatic(app: FastifyInstance, opts: DashboardStaticOptions = {}): Promise<DashboardBundle | null> {
  let bundle: DashboardBundle;
  try {
    bundle = await bundleFor(opts);
  } catch (e) {
    const reason = errorMessage(e);
    app.log.error({ err: reason }, 'dashboard unavailable: its bundle could not be built');
    const answer = () => {
      throw new PctrError('PCTR_INTERNAL', `the dashboard is unavailable on this gateway: ${reason}`);
    };
    app.get(DASHBOARD_PREFIX, { schema: { hide: true } }, answer);
    app.get(`${DASHBOARD_PREFIX}/*`, { schema: { hide: true } }, answer);
    return null;
  }
  await app.register(fastifyStatic, {
    root: bundle.dir,
    // Without the trailing slash the plugin also answers `/dashboard` with a redirect to `/dashboard/`.
    prefix: DASHBOARD_PREFIX,
    redirect: true,
    // No route sends files by hand: leave `reply` undecorated.
    decorateReply: false,
    index: ['index.html'],
    // The page and bundle change together and are small: revalidate (ETag) rather than cache stale code.
    cacheControl: true,
    maxAge: 0,
  });
  return bundle;
}

/** The dashboard UI as a gateway plugin: `buildApp({ …, plugins: [dashboardApi(…), dashboardUi()] })`. */
export function dashboardUi(opts: DashboardStaticOptions = {}): GatewayPlugin {
  return async (app) => {
    await registerDashboardStatic(app, opts);
  };
}
