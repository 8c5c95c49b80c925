/**
 * Dashboard overhead: serving p99 at the serving benchmark's load (autocannon, 4 keep-alive
 * connections, 100 candidates per rank request, k = 10, from another process) with and without
 * dashboards polling the gateway's /api at the page's refresh rate.
 *
 * The gateway is the same process in both conditions — the serving benchmark's embedded gateway
 * plus the monitor, the /api plugin and the /dashboard files — and the two conditions alternate run
 * by run (median of `--runs` each), so the difference is the dashboard's polling and nothing else.
 * The poller does what open dashboard pages do: every `--refresh-ms` (the page's 5 s) it fetches
 * each view's endpoints — by default every live view at once, as if six people each kept a different
 * page open (an upper bound; one open page costs one or two calls per refresh). A third row, the
 * plain gateway without monitor or dashboard, shows what the monitor itself costs.
 *
 * p99 at saturation is at the mercy of whatever else runs on the machine, so the benchmark also
 * measures what does not depend on the neighbours: the gateway's CPU time per /api call (each
 * endpoint called 50 times in a row, gateway otherwise idle, from /proc), hence the CPU time of one
 * refresh of every view, and compares it with the CPU time serving takes per second at the load.
 *
 *   npm run bench:dashboard -- [--duration 10] [--connections 4] [--runs 3] [--refresh-ms 5000] [--viewers 6] [--json]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../src/core/index.ts';
import { createRegistry } from '../src/registry/index.ts';
import { fixtureRows, marketRequests, registerFixtureModel, trainFixtureModel } from '../src/serving/testing/fixtures.ts';
import { tempDir } from '../test/helpers/services.ts';
import { apiCosts, settle, startPoller, viewCalls, type EndpointCost } from './dashboard-poller.ts';
import { fmt, flag, hasFlag, median, printJson, printTable } from './lib/report.ts';

const DURATION = Number(flag('duration', '10'));
const CONNECTIONS = Number(flag('connections', '4'));
const RUNS = Number(flag('runs', '3'));
const REFRESH_MS = Number(flag('refresh-ms', '5000'));
const VIEWERS = Math.min(6, Math.max(1, Number(flag('viewers', '6'))));
const REQUESTS = 500;
const KEY = 'bench-client';
const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));
const say = (s: string) => process.stderr.write(`${s}\n`);

interface LoadFigures {
  reqPerSec: number;
  p50: number;
  p99: number;
  p999: number;
  errors: number;
  non2xx: number;
  serverCpuUsPerRequest: number;
}

function startServer(args: string[]): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', here('./dashboard-server.ts'), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const msg = JSON.parse(line) as { listening?: string };
      if (msg.listening) resolve({ url: msg.listening, child });
    });
    child.once('exit', (code) => reject(new Error(`gateway exited with code ${code} before listening`)));
  });
}

async function stopServer(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

function runLoad(url: string, bodies: string, pid: number): Promise<LoadFigures> {
  const args = ['--import', 'tsx', here('./serving-load.ts'), '--url', url, '--bodies', bodies, '--duration', String(DURATION), '--connections', String(CONNECTIONS), '--pid', String(pid), '--key', KEY];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) =>
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!) as LoadFigures) : reject(new Error(`load generator exited with ${code}`)))),
  );
}

const line = (name: string, r: LoadFigures) =>
  say(`${name}: ${fmt(r.reqPerSec)} req/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, p99.9 ${r.p999.toFixed(2)} ms, gateway ${r.serverCpuUsPerRequest.toFixed(0)} µs CPU/req, non-2xx ${r.non2xx} (load average ${loadavg()[0].toFixed(1)})`);

const medians = (runs: LoadFigures[]) => {
  const m = (k: keyof LoadFigures) => median(runs.map((r) => r[k]));
  return { reqPerSec: m('reqPerSec'), p50: m('p50'), p99: m('p99'), p999: m('p999'), errors: m('errors'), non2xx: m('non2xx'), serverCpuUsPerRequest: m('serverCpuUsPerRequest') };
};

const { dir, remove } = tempDir('bench-dashboard');
try {
  say(`training an FTRL model on simulated impressions; ${REQUESTS} requests × 100 candidates`);
  const artifacts = join(dir, 'artifacts');
  const registryUrl = `sqlite:${join(dir, 'registry.db')}`;
  const registry = await createRegistry({ url: registryUrl, artifacts, logger: silentLogger });
  const champion = await registerFixtureModel(registry, await trainFixtureModel({ examples: 50_000 }), { alias: 'champion' });
  await registry.close();
  const requests = marketRequests(REQUESTS, { candidates: 100 });
  const bodiesFile = join(dir, 'bodies.json');
  const rowsFile = join(dir, 'rows.json');
  writeFileSync(bodiesFile, JSON.stringify(requests.map((r) => ({ userId: r.userId, context: r.context, candidates: r.candidates, k: 10 }))));
  writeFileSync(rowsFile, JSON.stringify(fixtureRows(requests)));
  const configFile = (name: string) => {
    const file = join(dir, `${name}.json`);
    writeFileSync(
      file,
      JSON.stringify({
        dataDir: join(dir, name),
        logLevel: 'error',
        registry: { url: registryUrl, artifacts },
        events: { url: `file:${join(dir, name, 'events')}` },
        features: { onlineStore: 'memory:' },
        gateway: { host: '127.0.0.1', port: 0, apiKeys: `${KEY}:client`, rateLimitPerMinute: 1_000_000_000 },
      }),
    );
    return file;
  };

  say('plain gateway (no monitor, no dashboard)');
  const plainRuns: LoadFigures[] = [];
  const plain = await startServer(['--config', configFile('plain'), '--rows', rowsFile]);
  try {
    for (let i = 0; i < RUNS; i++) {
      const r = await runLoad(plain.url, bodiesFile, plain.child.pid!);
      line(`plain run ${i + 1}`, r);
      plainRuns.push(r);
    }
  } finally {
    await stopServer(plain.child);
  }

  say(`gateway with monitor and dashboard: runs alternate between no viewer and ${VIEWERS} dashboard view(s) refreshing every ${REFRESH_MS} ms`);
  const quiet: LoadFigures[] = [];
  const watched: LoadFigures[] = [];
  const polls: { calls: number; failures: number; meanMs: number; maxMs: number }[] = [];
  const dash = await startServer(['--config', configFile('dashboard'), '--rows', rowsFile, '--dashboard']);
  let costs: EndpointCost[] = [];
  try {
    // Some traffic first, so every view has data to compute and send.
    await runLoad(dash.url, bodiesFile, dash.child.pid!);
    await settle(dash.child.pid!);
    costs = await apiCosts(dash.url, KEY, dash.child.pid!, champion);
    for (let i = 0; i < RUNS; i++) {
      for (const polled of i % 2 === 0 ? [false, true] : [true, false]) {
        const poller = polled ? startPoller(dash.url, KEY, champion, { viewers: VIEWERS, refreshMs: REFRESH_MS }) : null;
        const r = await runLoad(dash.url, bodiesFile, dash.child.pid!);
        const p = await poller?.stop();
        if (p) polls.push(p);
        line(`${polled ? 'dashboards open' : 'no dashboard  '} run ${i + 1}`, r);
        (polled ? watched : quiet).push(r);
      }
    }
  } finally {
    await stopServer(dash.child);
  }

  const a = medians(plainRuns);
  const q = medians(quiet);
  const w = medians(watched);
  const overheadP99 = (w.p99 / q.p99 - 1) * 100;
  const monitorP99 = (q.p99 / a.p99 - 1) * 100;
  const calls = polls.reduce((s, p) => s + p.calls, 0);
  const failures = polls.reduce((s, p) => s + p.failures, 0);
  const pollMean = median(polls.map((p) => p.meanMs));
  const cost = new Map(costs.map((c) => [c.path, c]));
  const tickCpuMs = viewCalls(champion)
    .slice(0, VIEWERS)
    .flat()
    .reduce((sum, path) => sum + (cost.get(path)?.cpuMs ?? NaN), 0);
  // CPU the dashboards take per second at their refresh rate, against what serving takes per second at the load.
  const apiCpuShare = tickCpuMs / REFRESH_MS;
  const servingCpuShare = (q.serverCpuUsPerRequest * q.reqPerSec) / 1e6;
  const addedWorkPct = (apiCpuShare / servingCpuShare) * 100;
  printTable(
    'Gateway cost of each /api endpoint (50 calls in a row, gateway idle after a load run)',
    ['endpoint', 'CPU ms/call', 'wall ms/call', 'bytes'],
    costs.map((c) => [c.path, c.cpuMs.toFixed(2), c.wallMs.toFixed(2), fmt(c.bytes)]),
  );
  const row = (name: string, f: ReturnType<typeof medians>) => [name, fmt(f.reqPerSec), f.p50.toFixed(2), f.p99.toFixed(2), f.p999.toFixed(2), String(f.non2xx), f.serverCpuUsPerRequest.toFixed(0)];
  printTable(
    `Dashboard overhead at the serving benchmark's load: 100 candidates, k = 10, ${CONNECTIONS} connections, median of ${RUNS} × ${DURATION} s (goal: dashboards add ≤ 5% to p99)`,
    ['gateway', 'req/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'non-2xx', 'gateway CPU µs/req'],
    [row('plain (no monitor, no dashboard)', a), row('monitor + dashboard, no viewer', q), row(`monitor + dashboard, ${VIEWERS} views polling`, w)],
  );
  process.stdout.write(
    `dashboards add ${overheadP99 >= 0 ? '+' : ''}${overheadP99.toFixed(1)}% to p99 (${q.p99.toFixed(2)} → ${w.p99.toFixed(2)} ms); ` +
      `${calls} /api calls (${failures} failed), ${pollMean.toFixed(1)} ms each on average under load; ` +
      `the monitor itself: ${monitorP99 >= 0 ? '+' : ''}${monitorP99.toFixed(1)}% p99 vs the plain gateway (load average ${loadavg()[0].toFixed(1)})\n` +
      `CPU: one refresh of ${VIEWERS} view(s) costs the gateway ${tickCpuMs.toFixed(1)} ms; every ${REFRESH_MS / 1000} s that is ${(apiCpuShare * 100).toFixed(2)}% of a core, ` +
      `against ${(servingCpuShare * 100).toFixed(0)}% of a core for serving at the load: dashboards add ${addedWorkPct.toFixed(2)}% to the gateway's work\n`,
  );
  if (hasFlag('json')) {
    printJson({
      plain_p99_ms: a.p99,
      quiet_p99_ms: q.p99,
      watched_p99_ms: w.p99,
      dashboard_p99_overhead_pct: overheadP99,
      monitor_p99_overhead_pct: monitorP99,
      plain_req_per_s: a.reqPerSec,
      quiet_req_per_s: q.reqPerSec,
      watched_req_per_s: w.reqPerSec,
      api_calls: calls,
      api_failures: failures,
      api_mean_ms: pollMean,
      refresh_cpu_ms: tickCpuMs,
      dashboard_cpu_share_pct: apiCpuShare * 100,
      serving_cpu_share_pct: servingCpuShare * 100,
      dashboard_added_work_pct: addedWorkPct,
      endpoints: Object.fromEntries(costs.map((c) => [c.path, { cpu_ms: c.cpuMs, wall_ms: c.wallMs, bytes: c.bytes }])),
      viewers: VIEWERS,
      refresh_ms: REFRESH_MS,
      runs: RUNS,
      duration_s: DURATION,
      connections: CONNECTIONS,
      load_average: loadavg()[0],
    });
  }
} finally {
  remove();
}
