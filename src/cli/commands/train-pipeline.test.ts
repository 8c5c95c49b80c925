/**
 * `pctr train` (pipeline modes), `pctr train runs|show`, `pctr backfill` and `pctr worker` as an
 * operator runs them: child processes sharing a data directory; in the distributed case two
 * `pctr worker` processes on Redis and PostgreSQL run what `pctr backfill` submits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pctrCommand } from '../../core/index.ts';
import { createOfflineStore } from '../../features/index.ts';
import type { RunRecord } from '../../training/index.ts';
import { createPgSchema, dropRedisPrefix, pgUrl, redisUrl, tempDir, uniqueName } from '../../../test/helpers/services.ts';
import { syntheticExamples } from '../../../test/helpers/synthetic-examples.ts';

const H = 3_600_000;
const T0 = Date.parse('2026-06-01T00:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

function pctr(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { command, args: full } = pctrCommand(args);
  return new Promise((resolve, reject) => {
    const child = spawn(command, full, { env: { ...process.env, PCTR_LOG_LEVEL: 'warn', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('pctr train (pipeline), backfill and worker', () => {
  const tmp = tempDir('train-pipeline-cli');
  const env = { PCTR_DATA_DIR: join(tmp.dir, 'data'), PCTR_TRAIN_BACKOFF: '50ms' };
  const workers: ChildProcess[] = [];
  const prefix = uniqueName('cliq');
  let schema: { schema: string; drop: () => Promise<void> };

  beforeAll(async () => {
    const offline = createOfflineStore(`file:${join(env.PCTR_DATA_DIR, 'offline')}`);
    await offline.writeExamples(syntheticExamples({ n: 4_000, from: T0, to: T0 + 4 * H }), 'data');
    await offline.close();
    schema = await createPgSchema('traincli');
  });

  afterAll(async () => {
    for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
    await dropRedisPrefix(prefix);
    await schema.drop();
    tmp.remove();
  });

  it('runs the pipeline once over a range, then lists and shows the run', { timeout: 60_000 }, async () => {
    const r = await pctr(['train', '--from', iso(T0), '--to', iso(T0 + 4 * H), '--param', 'bits=16', '--run-id', 'cli-1', '--json'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const run = JSON.parse(r.stdout) as RunRecord;
    expect(run).toMatchObject({ id: 'cli-1', status: 'succeeded', trigger: 'manual', range: { from: T0, to: T0 + 4 * H }, gate: { promoted: true, version: 1 } });
    const list = await pctr(['train', 'runs'], env);
    expect(list.stdout.split('\n')[0]).toMatch(/^RUN\s+TRIGGER\s+STATUS\s+FROM\s+TO\s+ROWS\s+AUC\s+TOOK\s+OUTCOME$/);
    expect(list.stdout).toMatch(/cli-1\s+manual\s+succeeded\s+2026-06-01T00:00Z\s+2026-06-01T04:00Z\s+4000\s+0\.\d{4}\s+\S+\s+promoted v1/);
    const show = await pctr(['train', 'show', 'cli-1'], env);
    expect(show.stdout).toMatch(/^run cli-1 \(batch, manual\) succeeded in /);
    expect(show.stdout).toMatch(/gate: promoted v1 — beats the base rate/);
  });

  it('fails clearly on an empty range, with exit code 1, and on bad flags with exit code 2', { timeout: 60_000 }, async () => {
    const r = await pctr(['train', '--from', '2020-01-01', '--to', '2020-01-02'], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/error PCTR_DATA_INVALID: the offline store has no labeled examples in \[2020-01-01T00:00:00\.000Z, 2020-01-02T00:00:00\.000Z\)/);
    const bad = await pctr(['train', '--from', 'yesterday'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--from "yesterday" is not a time/);
  });

  it('backfills a past range on two pctr worker processes (bullmq, PostgreSQL), without promoting', { timeout: 90_000 }, async () => {
    const dist = {
      ...env,
      PCTR_SCHEDULER: 'bullmq',
      PCTR_REDIS: redisUrl(),
      PCTR_QUEUE_PREFIX: prefix,
      PCTR_REGISTRY: `${pgUrl()}?schema=${schema.schema}`,
    };
    const ready = (child: ChildProcess) =>
      new Promise<void>((resolve, reject) => {
        child.once('exit', (code) => reject(new Error(`pctr worker exited with ${code}`)));
        child.stderr!.on('data', (d: Buffer) => d.toString().includes('pctr worker: ready') && resolve());
      });
    for (let i = 0; i < 2; i++) {
      const { command, args } = pctrCommand(['worker', '--name', `w${i}`]);
      const child = spawn(command, args, { env: { ...process.env, PCTR_LOG_LEVEL: 'warn', ...dist }, stdio: ['ignore', 'ignore', 'pipe'] });
      workers.push(child);
    }
    await Promise.all(workers.map(ready));
    const r = await pctr(['backfill', '--from', iso(T0), '--to', iso(T0 + 4 * H), '--every', '2h', '--param', 'bits=16', '--json'], dist);
    expect(r.code).toBe(0);
    const runs = JSON.parse(r.stdout) as RunRecord[];
    expect(runs.map((x) => [x.trigger, x.status, x.range])).toEqual([
      ['backfill', 'succeeded', { from: T0, to: T0 + 2 * H }],
      ['backfill', 'succeeded', { from: T0 + 2 * H, to: T0 + 4 * H }],
    ]);
    expect(runs.every((x) => x.gate?.promoted === false && /promotion is off for this backfill run/.test(x.gate.reason))).toBe(true);
    // The run history lives in PostgreSQL beside the registry, readable from any host.
    const list = await pctr(['train', 'runs', '--trigger', 'backfill', '--json'], dist);
    expect((JSON.parse(list.stdout) as RunRecord[]).map((x) => x.id).sort()).toEqual(runs.map((x) => x.id).sort());
    const stopped = workers.map((w) => new Promise((resolve) => w.once('exit', resolve)));
    for (const w of workers) w.kill('SIGTERM');
    expect(await Promise.all(stopped)).toEqual([0, 0]);
  });
});
