/**
 * Acceptance: a BullMQ worker killed with SIGKILL mid-run → the run completes on another worker with
 * no duplicate registration. Two worker processes share Redis, PostgreSQL (run store, registry) and
 * the files; the one that takes the register step registers, then hangs and is killed before the
 * step is recorded as done; after its job lock expires the other worker runs the step again, gets
 * the same version back from the registry's idempotency key, and finishes the run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../src/core/index.ts';
import { createOfflineStore } from '../src/features/index.ts';
import { createRegistry } from '../src/registry/index.ts';
import { BullmqRunner, batchPipeline, createRunStore } from '../src/training/index.ts';
import { createPgSchema, dropRedisPrefix, pgUrl, redisUrl, tempDir, uniqueName } from './helpers/services.ts';
import { syntheticExamples } from './helpers/synthetic-examples.ts';
import type { TrainingWorkerSettings } from './helpers/training-worker.ts';

const HELPER = fileURLToPath(new URL('./helpers/training-worker.ts', import.meta.url));
const H = 3_600_000;
const T0 = Date.parse('2026-05-01T00:00:00Z');

describe('BullMQ training workers', () => {
  const tmp = tempDir('train-crash');
  const prefix = uniqueName('bqcrash');
  const children: ChildProcess[] = [];
  let schema: { schema: string; drop: () => Promise<void> };
  let settings: TrainingWorkerSettings;

  beforeAll(async () => {
    schema = await createPgSchema('traincrash');
    const url = `${pgUrl()}?schema=${schema.schema}`;
    settings = {
      registryUrl: url,
      runsUrl: url,
      artifacts: join(tmp.dir, 'artifacts'),
      offlineDir: join(tmp.dir, 'offline'),
      workDir: join(tmp.dir, 'work'),
      redisUrl: redisUrl(),
      prefix,
      markerDir: join(tmp.dir, 'markers'),
    };
    mkdirSync(settings.markerDir, { recursive: true });
    const offline = createOfflineStore(`file:${settings.offlineDir}`);
    await offline.writeExamples(syntheticExamples({ n: 4_000, from: T0, to: T0 + 4 * H }), 'data');
    await offline.close();
  });

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await dropRedisPrefix(prefix);
    await schema.drop();
    tmp.remove();
  });

  const startWorker = (): Promise<ChildProcess> =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', HELPER, JSON.stringify(settings)], { stdio: ['ignore', 'pipe', 'inherit'] });
      children.push(child);
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`worker exited early with code ${code}`)));
      child.stdout!.on('data', (d: Buffer) => {
        if (d.toString().includes('ready')) resolve(child);
      });
    });

  it('finishes a run on another worker after one is SIGKILLed mid-step, registering once', { timeout: 120_000 }, async () => {
    const workers = await Promise.all([startWorker(), startWorker()]);
    const runs = await createRunStore(settings.runsUrl, { logger: silentLogger });
    const registry = await createRegistry({ url: settings.registryUrl, artifacts: settings.artifacts, logger: silentLogger });
    const offline = createOfflineStore(`file:${settings.offlineDir}`);
    const runner = new BullmqRunner({ store: runs, redisUrl: settings.redisUrl, prefix, pollMs: 100 });
    try {
      const dag = batchPipeline({ offline, registry, runs, workDir: settings.workDir });
      const submitted = await runner.submit(dag, { id: 'crash-1', trigger: 'manual', range: { from: T0, to: T0 + 4 * H }, params: { learner: { bits: 16 } } });
      const marker = await vi.waitFor(
        () => {
          const found = readdirSync(settings.markerDir).find((f) => f.startsWith('registered-'));
          if (!found) throw new Error('no worker has registered yet');
          return found;
        },
        { timeout: 60_000, interval: 100 },
      );
      const victim = workers.find((w) => marker === `registered-${w.pid}`)!;
      expect(victim).toBeDefined();
      victim.kill('SIGKILL');
      // The version exists, the step is not done: the state a crash leaves behind.
      expect((await registry.list('ctr')).length).toBe(1);
      expect((await runs.getRun(submitted.id)).steps.find((s) => s.name === 'register')?.status).toBe('running');

      const run = await runner.wait(submitted.id, { timeoutMs: 60_000 });
      expect(run.status).toBe('succeeded');
      const register = run.steps.find((s) => s.name === 'register')!;
      expect(register).toMatchObject({ status: 'succeeded', attempts: 2, output: { version: 1 } });
      const versions = await registry.list('ctr');
      expect(versions.map((v) => [v.version, v.runId])).toEqual([[1, 'crash-1']]);
      expect(run.gate).toMatchObject({ promoted: true, version: 1 });
      expect((await registry.get('ctr', '@champion')).version).toBe(1);
      expect(existsSync(join(settings.workDir, 'crash-1'))).toBe(false);
    } finally {
      await runner.close();
      await Promise.all([runs.close(), registry.close(), offline.close()]);
    }
  });
});
