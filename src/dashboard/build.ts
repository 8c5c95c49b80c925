/**
 * Builds the dashboard's browser bundle from its sources (src/dashboard/ui) with esbuild's API, so
 * a fresh clone, `pctr start`, `pctr gateway` and the tests all serve a bundle made from the code
 * they run, with no separate build step to forget and no network (uPlot comes from node_modules).
 * The output is content-addressed: `<outDir>/<digest of the sources>/`, written to a temporary
 * directory and renamed into place, so several processes starting at once (gateway workers, test
 * files) build at most a few identical copies and never serve a half-written one; an unchanged
 * source tree costs one read of ~20 small files. The newest few bundles are kept.
 */
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PctrError, errorMessage } from '../core/index.ts';

/** The dashboard's browser sources. */
export const DASHBOARD_UI_DIR = fileURLToPath(new URL('./ui/', import.meta.url));
/** Where bundles go by default: the repository's (git-ignored) dist/dashboard. */
export const DEFAULT_DASHBOARD_OUT_DIR = fileURLToPath(new URL('../../dist/dashboard/', import.meta.url));

export interface DashboardBundle {
  /** Directory holding index.html, app.js and app.css. */
  readonly dir: string;
  /** sha256 prefix of the sources and tool versions the bundle was made from. */
  readonly digest: string;
  /** False when an up-to-date bundle was already there. */
  readonly built: boolean;
  readonly ms: number;
}

export interface BuildOptions {
  readonly outDir?: string;
}

/** Browser sources only: tests and the type-checking config do not change the bundle. */
function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (!entry.name.endsWith('.test.ts') && entry.name !== 'tsconfig.json') out.push(path);
  }
  return out.sort();
}

const require = createRequire(import.meta.url);

function packageVersion(name: string): string {
  const file = require.resolve(`${name}/package.json`);
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

/** Digest of every source file (path and bytes) and of the bundler's and uPlot's versions. */
export function dashboardDigest(uiDir = DASHBOARD_UI_DIR): string {
  const h = createHash('sha256');
  h.update(`esbuild ${packageVersion('esbuild')}\0uplot ${packageVersion('uplot')}\0`);
  for (const file of sourceFiles(uiDir)) {
    h.update(relative(uiDir, file));
    h.update('\0');
    h.update(readFileSync(file));
    h.update('\0');
  }
  return h.digest('hex').slice(0, 16);
}

/** Build the bundle unless an up-to-date one exists; resolves with where it is. */
export async function buildDashboard(opts: BuildOptions = {}): Promise<DashboardBundle> {
  const t0 = performance.now();
  const outDir = opts.outDir ?? DEFAULT_DASHBOARD_OUT_DIR;
  const digest = dashboardDigest();
  const dir = join(outDir, digest);
  if (existsSync(join(dir, 'index.html'))) return { dir, digest, built: false, ms: performance.now() - t0 };

  mkdirSync(outDir, { recursive: true });
  const tmp = join(outDir, `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    // esbuild is loaded only when a build is needed: serving an existing bundle does not pay for it.
    const esbuild = await import('esbuild');
    await esbuild.build({
      entryPoints: { app: join(DASHBOARD_UI_DIR, 'main.ts'), styles: join(DASHBOARD_UI_DIR, 'styles.css') },
      outdir: tmp,
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
      minify: true,
      sourcemap: 'linked',
      legalComments: 'none',
      logLevel: 'silent',
    });
    copyFileSync(join(DASHBOARD_UI_DIR, 'index.html'), join(tmp, 'index.html'));
    copyFileSync(join(DASHBOARD_UI_DIR, 'favicon.svg'), join(tmp, 'favicon.svg'));
    try {
      renameSync(tmp, dir);
    } catch (e) {
      // Another process renamed its identical build into place first: use that one.
      if (!existsSync(join(dir, 'index.html'))) throw e;
    }
  } catch (e) {
    throw new PctrError('PCTR_INTERNAL', `building the dashboard bundle from ${DASHBOARD_UI_DIR} into ${outDir} failed: ${errorMessage(e)}`, { cause: e });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  pruneOld(outDir);
  return { dir, digest, built: true, ms: performance.now() - t0 };
}

/** Bundles kept: a gateway still running older sources (a long `pctr start` while the UI is edited) keeps its own. */
const KEEP_BUNDLES = 3;

/** Remove all but the newest few bundles. */
function pruneOld(outDir: string): void {
  const bundles = readdirSync(outDir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && /^[0-9a-f]{16}$/.test(e.name))
    .map((e) => ({ path: join(outDir, e.name), mtime: statSync(join(outDir, e.name)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime);
  for (const old of bundles.slice(KEEP_BUNDLES)) rmSync(old.path, { recursive: true, force: true });
}
