/**
 * `pctr gateway --monitor` (distributed mode: the monitor runs inside a gateway process): the
 * dashboard API answers with a key, the monitor reads what this gateway serves back from the
 * event log, and its metrics are on the gateway's /metrics.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { pctrCommand } from '../src/core/index.ts';
import type { Overview, TrafficResponse } from '../src/dashboard/index.ts';
import { marketRequests } from '../src/serving/testing/fixtures.ts';
import { waitFor } from '../src/serving/testing/gateway-fixture.ts';
import { tempDir } from './helpers/services.ts';

const dir = tempDir('gateway-monitor');
let child: ChildProcess | undefined;

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child!.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  dir.remove();
});

describe('pctr gateway --monitor', () => {
  it('serves the dashboard API and the monitor metrics, fed by the event log', async () => {
    const { command, args } = pctrCommand(['gateway', '--monitor', '--host', '127.0.0.1', '--port', '0', '--json']);
    child = spawn(command, args, {
      env: { ...process.env, PCTR_DATA_DIR: dir.dir, PCTR_EVENTS: `file:${join(dir.dir, 'events')}`, PCTR_EVENT_PARTITIONS: '2', PCTR_API_KEYS: 'k-client:client', PCTR_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child!.stdout! }).once('line', (line) => resolve((JSON.parse(line) as { listening: string }).listening));
      child!.once('exit', (code) => reject(new Error(`pctr gateway exited with ${code}: ${err}`)));
    });
    const headers = { 'content-type': 'application/json', authorization: 'Bearer k-client' };
    expect((await fetch(`${url}/api/overview`)).status).toBe(401);
    for (const r of marketRequests(20)) {
      const res = await fetch(`${url}/v1/rank`, { method: 'POST', headers, body: JSON.stringify({ userId: r.userId, ts: r.ts, context: r.context, candidates: r.candidates, k: 2 }) });
      expect(res.status).toBe(200);
    }
    await waitFor(
      'the monitor to read the served impressions',
      async () => {
        const t = (await (await fetch(`${url}/api/traffic`, { headers })).json()) as TrafficResponse;
        return t.series.some((s) => s.version === 'ctr@prior' && s.impressions.reduce((a, b) => a + b, 0) === 40);
      },
      20_000,
    );
    const overview = (await (await fetch(`${url}/api/overview`, { headers })).json()) as Overview;
    expect(overview.boxes.model_server.figures.find((f) => f.label === 'champion')?.value).toBe('ctr@prior');
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain('pctr_online_impressions_total{model_version="ctr@prior"} 40');
    expect(metrics).toContain('# TYPE pctr_http_request_duration_seconds histogram');
  });
});
