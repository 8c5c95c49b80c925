/**
 * dashboard: the running system made visible in a browser. It owns the `/api/*` JSON endpoints
 * behind every view (overview diagram, traffic and A/B, models and curves, features and drift,
 * join, pipeline runs, prediction inspector, alerts; contract in api/types.ts) and the UI served at
 * `/dashboard`. Both attach to the gateway as `GatewayPlugin`s (`buildApp({ …, plugins: [...] })`),
 * so serving does not depend on the dashboard; the /api routes read a `Monitor` (monitoring/).
 */
export { dashboardApi, type DashboardApiDeps } from './api/plugin.ts';
export type * from './api/types.ts';
export { DASHBOARD_PREFIX, dashboardUi, registerDashboardStatic, type DashboardStaticOptions } from './static.ts';
export { DASHBOARD_UI_DIR, DEFAULT_DASHBOARD_OUT_DIR, buildDashboard, dashboardDigest, type BuildOptions, type DashboardBundle } from './build.ts';
