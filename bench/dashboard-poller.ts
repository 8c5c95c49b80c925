/**
 * What open dashboards do to a gateway, for the dashboard-overhead benchmark: the /api calls of
 * each view's refresh, a poller that makes them at the page's refresh rate, and a measurement of
 * the gateway's CPU time per call (from /proc, so it does not depend on the machine's other load).
 */
import { readFileSync } from 'node:fs';

/**
 * The /api calls of one refresh of each live view, as the page makes them (home first; the
 * inspector ranks only on demand). Views other than home also read /api/alerts for the banner
 * every third refresh: counted here once per refresh, on the traffic view.
 */
export function viewCalls(champion: number): string[][] {
  return [
    ['/api/overview'],
    ['/api/traffic?minutes=60', '/api/ab', '/api/alerts'],
    ['/api/models', `/api/models/${champion}/curves`],
    ['/api/features'],
    ['/api/join'],
    ['/api/pipeline'],
  ];
}

/** One refresh of `viewers` views: their calls at once, as the pages make them; each call's latency and whether it failed. */
export async function refresh(url: string, key: string, champion: number, viewers: number): Promise<{ ms: number; ok: boolean }[]> {
  return Promise.all(
    viewCalls(champion)
      .slice(0, viewers)
      .flat()
      .map(async (path) => {
        const t0 = performance.now();
        const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${key}` } });
        await res.arrayBuffer();
        return { ms: performance.now() - t0, ok: res.ok };
      }),
  );
}

/** User + system CPU seconds of a process so far (Linux /proc). */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export interface EndpointCost {
  readonly path: string;
  readonly cpuMs: number;
  readonly wallMs: number;
  readonly bytes: number;
}

/** Wait (up to 60 s) until the gateway is idle — the monitor has read the backlog of a load run — so CPU measured next is the API's. */
export async function settle(pid: number): Promise<void> {
  for (let i = 0; i < 60; i++) {
    const c0 = cpuSeconds(pid);
    await new Promise((r) => setTimeout(r, 1000));
    if (cpuSeconds(pid) - c0 < 0.03) return;
  }
  process.stderr.write('the gateway did not go idle within 60 s: the /api CPU figures include background work\n');
}

/** Gateway CPU and wall time per call of each endpoint the views use, the gateway otherwise idle. */
export async function apiCosts(url: string, key: string, pid: number, champion: number): Promise<EndpointCost[]> {
  // /proc counts CPU in 10 ms ticks: 200 calls resolve 0.05 ms per call.
  const CALLS = 200;
  const out: EndpointCost[] = [];
  for (const path of [...new Set(viewCalls(champion).flat())]) {
    const call = async () => {
      const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${key}` } });
      const body = await res.arrayBuffer();
      if (!res.ok) throw new Error(`${path} answered ${res.status}`);
      return body.byteLength;
    };
    await call();
    const cpu0 = cpuSeconds(pid);
    const t0 = performance.now();
    let bytes = 0;
    for (let i = 0; i < CALLS; i++) bytes = await call();
    out.push({ path, cpuMs: ((cpuSeconds(pid) - cpu0) * 1000) / CALLS, wallMs: (performance.now() - t0) / CALLS, bytes });
  }
  return out;
}
