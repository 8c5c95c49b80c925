/**
 * The whole system for the dashboard's browser test: `pctr start --sim` in a child process with its
 * state in a temporary directory, a free port and two API keys (client, admin). Before it starts,
 * the registry in that directory gets a small trained FTRL model as champion and a second version,
 * so the gateway serves a real model from the first request (the inspector has contributions to
 * show) and promote/rollback have versions to move between without waiting for training runs. The
 * system trains on its own as usual, but its gate never promotes (minimum AUC gain 1): the champion
 * moves only when the test moves it. Simulated time runs 300× faster than the wall clock at one
 * request per simulated second, so a minute of wall time fills five hours of event-time charts,
 * joins clicks within seconds and runs the batch pipeline every 12 s. The test process keeps the
 * SQLite registry open (safe across processes) to read the alias history.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { loadConfig, pctrCommand, silentLogger, type Config } from '../../src/core/index.ts';
import { createRegistry, type AliasEvent, type Registry } from '../../src/registry/index.ts';
import { registerFixtureModel } from '../../src/serving/testing/fixtures.ts';
import { fixtureModel } from '../../src/serving/testing/gateway-fixture.ts';
import { tempDir } from './services.ts';

export interface DashboardSystem {
  /** Base URL of the gateway (`${url}/dashboard/` is the UI). */
  readonly url: string;
  readonly clientKey: string;
  readonly adminKey: string;
  /** The champion now and the newest registered version that is not it. */
  promotion(): Promise<{ readonly champion: number; readonly target: number }>;
  /** Champion alias moves, oldest first. */
  aliasHistory(): Promise<AliasEvent[]>;
  stop(): Promise<void>;
}

const CLIENT_KEY = 'ui-test-client';
const ADMIN_KEY = 'ui-test-admin';
const START_TIMEOUT_MS = 60_000;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Poll `check` every 100 ms until it returns a value; fails naming `what` (and the child's output) after `timeoutMs`. */
async function until<T>(what: string, check: () => Promise<T | null>, timeoutMs: number, child: { exited: boolean; output: () => string }): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exited) throw new Error(`pctr start exited while waiting for ${what}:\n${child.output()}`);
    const value = await check().catch(() => null);
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}:\n${child.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function startDashboardSystem(): Promise<DashboardSystem> {
  const { dir, remove } = tempDir('dashboard-browser');
  const file = join(dir, 'config.json');
  writeFileSync(
    file,
    JSON.stringify({
      dataDir: join(dir, 'state'),
      logLevel: 'warn',
      gateway: { apiKeys: `${CLIENT_KEY}:client,${ADMIN_KEY}:admin`, rateLimitPerMinute: 100_000_000 },
      training: { gateMinAucGain: 1 },
      // Drift needs this many served impressions per window (and five times as many for its baseline): a few seconds' worth here.
      monitoring: { driftMinRows: 300 },
    }),
  );
  const config: Config = loadConfig({ file, env: {} });
  const name = config.registry.modelName;
  const seed = await createRegistry({ url: config.registry.url, artifacts: config.registry.artifacts, logger: silentLogger });
  try {
    const model = await fixtureModel();
    await registerFixtureModel(seed, model, { name, alias: 'champion' });
    await registerFixtureModel(seed, model, { name });
  } finally {
    await seed.close();
  }
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const { command, args } = pctrCommand(['--config', file, 'start', '--sim', '--port', String(port), '--speed', '300', '--rate', '1', '--train-every', '1h', '--duration', '10m']);
  const child: ChildProcess = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (d: Buffer) => {
    output = (output + d.toString()).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const state = { exited: false, output: () => output };
  const exited = new Promise<void>((r) => child.once('exit', () => ((state.exited = true), r())));

  let registry: Registry | null = null;
  const stop = async () => {
    await registry?.close();
    if (!state.exited) {
      child.kill('SIGTERM');
      const killed = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(killed);
    }
    remove();
  };
  try {
    await until('the gateway to answer /healthz', async () => ((await fetch(`${url}/healthz`)).ok ? true : null), START_TIMEOUT_MS, state);
    registry = await createRegistry({ url: config.registry.url, artifacts: config.registry.artifacts, logger: silentLogger });
  } catch (e) {
    await stop();
    throw e;
  }
  const reg = registry;
  return {
    url,
    clientKey: CLIENT_KEY,
    adminKey: ADMIN_KEY,
    stop,
    aliasHistory: () => reg.aliasHistory(name, 'champion'),
    promotion: async () => {
      const versions = await reg.list(name);
      const champion = versions.find((v) => v.aliases.includes('champion'))!;
      const others = versions.filter((v) => v !== champion);
      return { champion: champion.version, target: others[others.length - 1].version };
    },
  };
}
