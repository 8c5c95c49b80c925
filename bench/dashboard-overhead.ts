/**
 * Dashboard overhead: serving p99 at the serving benchmark's load (autocannon, 4 keep-alive
 * connections, 100 candidates per rank request, k = 10, from another process) with and without
 * dashboards polling the gateway's /api at the page's refresh rate.
 *
 * Polling is measured within one load run on the gateway that runs the monitor, the /api plugin and
 * the /dashboard files: the run is cut into phases of one refresh period (`--refresh-ms`, the page's
 * 5 s), alternately without and with viewers (`--phases`, 12 = one minute), and at the start of each
 * viewed phase the poller makes one refresh of every view. Each response counts in the phase its
 * request started in. Whatever the neighbours on a shared machine do lands on both kinds of phase
 * alike, which back-to-back runs cannot promise: the overhead is the median over phase pairs of the
 * viewed phase's p99 against the unviewed phase before it (also shown: viewed against unviewed p99
 * of all phases pooled). By default every live view refreshes at once, as if six people each kept a
 * different page open (an upper bound; one open page costs one or two calls per refresh).
 *
 * What the monitor itself costs is measured apart: the plain gateway (the serving benchmark's
 * embedded one) and the dashboard gateway run side by side and take turns, `--runs` rounds in a
 * rotating order; that overhead is the median of the rounds' p99 ratios.
 *
 * p99 at saturation is at the mercy of whatever else runs on the machine, so the benchmark also
 * measures what does not depend on the neighbours: the gateway's CPU time per /api call (each
 * endpoint called 200 times in a row, gateway otherwise idle, from /proc), hence the CPU time of one
 * refresh of every view, and compares it with the CPU time serving takes per second at the load.
 *
 *   npm run bench:dashboard -- [--duration 10] [--connections 4] [--runs 3] [--refresh-ms 5000] [--phases 12] [--viewers 6] [--json]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../src/core/index.ts';
import { createRegistry } from '../src/registry/index.ts';
import { fixtureRows, marketRequests, registerFixtureModel, trainFixtureModel } from '../src/serving/testing/fixtures.ts';
import { tempDir } from '../test/helpers/services.ts';
import { apiCosts, refresh, settle, viewCalls, type EndpointCost } from './dashboard-poller.ts';
import { fmt, flag, hasFlag, median, percentile, printJson, printTable } from './lib/report.ts';

const DURATION = Number(flag('duration', '10'));
const CONNECTIONS = Number(flag('connections', '4'));
const RUNS = Number(flag('runs', '3'));
const REFRESH_MS = Number(flag('refresh-ms', '5000'));
const PHASES = Math.max(2, 2 * Math.round(Number(flag('phases', '12')) / 2));
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

function runLoad(url: string, bodies: string, pid: number, opts: { duration?: number; latencies?: string } = {}): Promise<LoadFigures> {
  const args = ['--import', 'tsx', here('./serving-load.ts'), '--url', url, '--bodies', bodies, '--duration', String(opts.duration ?? DURATION), '--connections', String(CONNECTIONS), '--pid', String(pid), '--key', KEY];
  if (opts.latencies !== undefined) args.push('--latencies', opts.latencies);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) =>
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!) as LoadFigures) : reject(new Error(`load generator exited with ${code}`)))),
  );
}

const pct = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(1)}%`;

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

  // Both gateways run side by side (the idle one costs nothing once its monitor has caught up).
  const plain = await startServer(['--config', configFile('plain'), '--rows', rowsFile]);
  const dash = await startServer(['--config', configFile('dashboard'), '--rows', rowsFile, '--dashboard']);
  const plainRuns: LoadFigures[] = [];
  const quiet: LoadFigures[] = [];
  let costs: EndpointCost[] = [];
  let phased: PhasedFigures;
  try {
    // Some traffic first, so every view has data to compute and send.
    await runLoad(dash.url, bodiesFile, dash.child.pid!);
    await settle(dash.child.pid!);
    costs = await apiCosts(dash.url, KEY, dash.child.pid!, champion);

    say(`what the monitor costs: the plain gateway and the dashboard gateway (no viewer) take turns, ${RUNS} rounds`);
    for (let i = 0; i < RUNS; i++) {
      for (const c of i % 2 === 0 ? ['plain', 'quiet'] : ['quiet', 'plain']) {
        const server = c === 'plain' ? plain : dash;
        // The dashboard gateway's monitor reads the backlog of its previous run first.
        if (c === 'quiet') await settle(dash.child.pid!);
        const r = await runLoad(server.url, bodiesFile, server.child.pid!);
        line(`${c === 'plain' ? 'plain gateway    ' : 'monitor, no viewer'} round ${i + 1}`, r);
        (c === 'plain' ? plainRuns : quiet).push(r);
      }
    }

    say(`what viewing costs: one run of ${PHASES} phases of ${REFRESH_MS} ms on the dashboard gateway, alternately without and with ${VIEWERS} view(s) refreshing`);
    await settle(dash.child.pid!);
    phased = await phasedRun(dash, bodiesFile, champion);
  } finally {
    await stopServer(plain.child);
    await stopServer(dash.child);
  }

  const a = medians(plainRuns);
  const q = medians(quiet);
  const monitorP99 = (q.p99 / a.p99 - 1) * 100;
  // Round by round (a round's two runs are seconds apart), then the median.
  const pairedMonitorP99 = median(quiet.map((r, i) => (r.p99 / plainRuns[i].p99 - 1) * 100));
  const cost = new Map(costs.map((c) => [c.path, c]));
  const tickCpuMs = viewCalls(champion)
    .slice(0, VIEWERS)
    .flat()
    .reduce((sum, path) => sum + (cost.get(path)?.cpuMs ?? NaN), 0);
  // CPU the dashboards take per second at their refresh rate, against what serving takes per second at the load.
  const apiCpuShare = tickCpuMs / REFRESH_MS;
  const servingCpuShare = (phased.serverCpuUsPerRequest * phased.reqPerSec) / 1e6;
  const addedWorkPct = (apiCpuShare / servingCpuShare) * 100;
  printTable(
    'Gateway cost of each /api endpoint (200 calls in a row, gateway idle after a load run)',
    ['endpoint', 'CPU ms/call', 'wall ms/call', 'bytes'],
    costs.map((c) => [c.path, c.cpuMs.toFixed(2), c.wallMs.toFixed(2), fmt(c.bytes)]),
  );
  const ms = (x: number) => x.toFixed(2);
  printTable(
    `Dashboard overhead at the serving benchmark's load: 100 candidates, k = 10, ${CONNECTIONS} connections (goal: dashboards add ≤ 5% to p99)`,
    ['gateway', 'req/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'non-2xx', 'gateway CPU µs/req'],
    [
      ['plain (no monitor, no dashboard), median of runs', fmt(a.reqPerSec), ms(a.p50), ms(a.p99), ms(a.p999), String(a.non2xx), a.serverCpuUsPerRequest.toFixed(0)],
      ['monitor + dashboard, no viewer, median of runs', fmt(q.reqPerSec), ms(q.p50), ms(q.p99), ms(q.p999), String(q.non2xx), q.serverCpuUsPerRequest.toFixed(0)],
      [`same gateway, one run: phases without viewers`, fmt(phased.off.reqPerSec), ms(phased.off.p50), ms(phased.off.p99), ms(phased.off.p999), '-', '-'],
      [`same run: phases with ${VIEWERS} views refreshing`, fmt(phased.on.reqPerSec), ms(phased.on.p50), ms(phased.on.p99), ms(phased.on.p999), '-', '-'],
    ],
  );
  process.stdout.write(
    `dashboards add ${pct(phased.pairedOverheadPct)} to p99 (median of ${PHASES / 2} viewed phases against the unviewed phase before each: ${phased.pairRatios.map(pct).join(', ')}; ` +
      `${pct(phased.pooledOverheadPct)} with all phases pooled); ${phased.calls} /api calls (${phased.failures} failed), ${phased.meanCallMs.toFixed(1)} ms each on average under load\n` +
      `the monitor itself: ${pct(pairedMonitorP99)} p99 vs the plain gateway (median of ${RUNS} rounds; ${pct(monitorP99)} between the medians); load average ${loadavg()[0].toFixed(1)}\n` +
      `CPU: one refresh of ${VIEWERS} view(s) costs the gateway ${tickCpuMs.toFixed(1)} ms; every ${REFRESH_MS / 1000} s that is ${(apiCpuShare * 100).toFixed(2)}% of a core, ` +
      `against ${(servingCpuShare * 100).toFixed(0)}% of a core for serving at the load: dashboards add ${addedWorkPct.toFixed(2)}% to the gateway's work\n`,
  );
  if (hasFlag('json')) {
    printJson({
      plain_p99_ms: a.p99,
      quiet_p99_ms: q.p99,
      unviewed_phases_p99_ms: phased.off.p99,
      viewed_phases_p99_ms: phased.on.p99,
      dashboard_p99_overhead_pct: phased.pairedOverheadPct,
      dashboard_p99_overhead_pooled_pct: phased.pooledOverheadPct,
      dashboard_p99_overhead_by_phase_pct: phased.pairRatios,
      monitor_p99_overhead_pct: pairedMonitorP99,
      monitor_p99_overhead_of_medians_pct: monitorP99,
      plain_req_per_s: a.reqPerSec,
      quiet_req_per_s: q.reqPerSec,
      phased_req_per_s: phased.reqPerSec,
      api_calls: phased.calls,
      api_failures: phased.failures,
      api_mean_ms: phased.meanCallMs,
      refresh_cpu_ms: tickCpuMs,
      dashboard_cpu_share_pct: apiCpuShare * 100,
      serving_cpu_share_pct: servingCpuShare * 100,
      dashboard_added_work_pct: addedWorkPct,
      endpoints: Object.fromEntries(costs.map((c) => [c.path, { cpu_ms: c.cpuMs, wall_ms: c.wallMs, bytes: c.bytes }])),
      viewers: VIEWERS,
      refresh_ms: REFRESH_MS,
      phases: PHASES,
      runs: RUNS,
      duration_s: DURATION,
      connections: CONNECTIONS,
      load_average: loadavg()[0],
    });
  }
} finally {
  remove();
}

interface PhaseStats {
  readonly reqPerSec: number;
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
}

interface PhasedFigures {
  readonly off: PhaseStats;
  readonly on: PhaseStats;
  readonly pairRatios: number[];
  readonly pairedOverheadPct: number;
  readonly pooledOverheadPct: number;
  readonly reqPerSec: number;
  readonly serverCpuUsPerRequest: number;
  readonly calls: number;
  readonly failures: number;
  readonly meanCallMs: number;
}

/**
 * One load run on the dashboard gateway cut into PHASES phases of REFRESH_MS: even phases without
 * viewers, odd ones opening with a refresh of every view. Responses count in the phase their
 * request started in; those outside the phases (the run's tail) are left out.
 */
async function phasedRun(server: { url: string; child: ChildProcess }, bodies: string, champion: number): Promise<PhasedFigures> {
  // The load generator starts (~1–2 s) and warms up (2 s) before it measures; the phases begin
  // after that and its measured run outlasts them, so every phase is covered whole.
  const LEAD_MS = 4_000;
  const latencies = join(dir, 'phased-latencies.bin');
  const t0 = Date.now() + LEAD_MS;
  const load = runLoad(server.url, bodies, server.child.pid!, { duration: (PHASES * REFRESH_MS + LEAD_MS) / 1000, latencies });
  const calls: { ms: number; ok: boolean }[] = [];
  for (let k = 1; k < PHASES; k += 2) {
    const wait = t0 + k * REFRESH_MS - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    calls.push(...(await refresh(server.url, KEY, champion, VIEWERS)));
  }
  const figures = await load;
  const pairs = new Float64Array(readFileSync(latencies).buffer.slice(0));
  const byPhase: number[][] = Array.from({ length: PHASES }, () => []);
  for (let i = 0; i < pairs.length; i += 2) {
    const k = Math.floor((pairs[i] - t0) / REFRESH_MS);
    if (k >= 0 && k < PHASES) byPhase[k].push(pairs[i + 1]);
  }
  const stats = (xs: number[], phases: number): PhaseStats => ({
    reqPerSec: xs.length / ((phases * REFRESH_MS) / 1000),
    p50: percentile(xs, 0.5),
    p99: percentile(xs, 0.99),
    p999: percentile(xs, 0.999),
  });
  const off = byPhase.filter((_, k) => k % 2 === 0);
  const on = byPhase.filter((_, k) => k % 2 === 1);
  const pairRatios = on.map((xs, i) => (percentile(xs, 0.99) / percentile(off[i], 0.99) - 1) * 100);
  const offStats = stats(off.flat(), off.length);
  const onStats = stats(on.flat(), on.length);
  const ok = calls.filter((c) => c.ok);
  return {
    off: offStats,
    on: onStats,
    pairRatios,
    pairedOverheadPct: median(pairRatios),
    pooledOverheadPct: (onStats.p99 / offStats.p99 - 1) * 100,
    reqPerSec: figures.reqPerSec,
    serverCpuUsPerRequest: figures.serverCpuUsPerRequest,
    calls: calls.length,
    failures: calls.length - ok.length,
    meanCallMs: calls.reduce((sum, c) => sum + c.ms, 0) / Math.max(1, calls.length),
  };
}
