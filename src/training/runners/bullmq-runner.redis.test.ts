import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { dropRedisPrefix, redisUrl, tempDir, uniqueName } from '../../../test/helpers/services.ts';
import { PctrError } from '../../core/index.ts';
import { defineDag, type StepDef } from '../dag.ts';
import { createRunStore, type RunStore } from '../run-store/index.ts';
import { BullmqRunner } from './bullmq-runner.ts';
import { TrainingWorker } from './bullmq-worker.ts';

const Params = z.object({ n: z.number().default(1) });
type Params = z.output<typeof Params>;

function chainDag(calls: string[], name = 'chain', overrides: Partial<Record<string, StepDef<Params>['run']>> = {}) {
  const step = (s: string, deps: string[]): StepDef<Params> => ({
    name: s,
    deps,
    run: async (ctx) => {
      calls.push(s);
      if (overrides[s]) return overrides[s]!(ctx);
      return { [s]: Object.values(ctx.inputs).length + ctx.params.n };
    },
  });
  return defineDag(name, Params, [step('extract', []), step('train', ['extract']), step('register', ['train'])]);
}

describe('BullMQ runner and worker', () => {
  let dir: { dir: string; remove: () => void };
  let store: RunStore;
  let prefix: string;
  const closers: (() => Promise<void>)[] = [];

  beforeEach(async () => {
    dir = tempDir('bullmq');
    store = await createRunStore(`sqlite:${join(dir.dir, 'runs.db')}`);
    prefix = uniqueName('bq');
  });

  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    await store.close();
    await dropRedisPrefix(prefix);
    dir.remove();
  });

  const start = async (dags: Parameters<typeof startWorker>[0]) => {
    const runner = new BullmqRunner({ store, redisUrl: redisUrl(), prefix, retry: { attempts: 3, backoffMs: 20 }, pollMs: 50 });
    closers.push(() => runner.close());
    await startWorker(dags);
    return runner;
  };
  const startWorker = async (dags: StepDagList) => {
    const worker = new TrainingWorker({ store, redisUrl: redisUrl(), prefix, dags, retry: { attempts: 3, backoffMs: 20 } });
    closers.push(() => worker.close());
    await worker.waitUntilReady();
    return worker;
  };
  type StepDagList = ConstructorParameters<typeof TrainingWorker>[0]['dags'];

  it('runs a flow step by step on a worker and records the run', async () => {
    const calls: string[] = [];
    const dag = chainDag(calls);
    const runner = await start([dag]);
    const run = await runner.run(dag, { trigger: 'manual', range: null, params: { n: 5 } });
    expect(run.status).toBe('succeeded');
    expect(calls).toEqual(['extract', 'train', 'register']);
    expect(run.steps.map((s) => [s.name, s.status, s.output])).toEqual([
      ['extract', 'succeeded', { extract: 5 }],
      ['train', 'succeeded', { train: 6 }],
      ['register', 'succeeded', { register: 6 }],
    ]);
  });

  it('retries a step that fails twice with backoff, then succeeds', async () => {
    const calls: string[] = [];
    let failures = 0;
    const dag = chainDag(calls, 'flaky', {
      train: async () => {
        if (failures++ < 2) throw new PctrError('PCTR_BACKEND_UNAVAILABLE', `flaky (${failures})`);
        return { ok: true };
      },
    });
    const runner = await start([dag]);
    const run = await runner.run(dag, { trigger: 'manual', range: null, params: {} });
    expect(run.status).toBe('succeeded');
    expect(calls).toEqual(['extract', 'train', 'train', 'train', 'register']);
    expect(run.steps[1]).toMatchObject({ status: 'succeeded', attempts: 3, output: { ok: true } });
  });

  it('fails the run at once on a failure a retry cannot fix, and resumes it when submitted again', async () => {
    const calls: string[] = [];
    let bad = true;
    const dag = chainDag(calls, 'bad-data', {
      train: async () => {
        if (bad) throw new PctrError('PCTR_DATA_INVALID', 'the training range has a single class');
        return { ok: true };
      },
    });
    const runner = await start([dag]);
    const failed = await runner.run(dag, { id: 'bad-1', trigger: 'manual', range: null, params: {} });
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatchObject({ code: 'PCTR_DATA_INVALID', message: 'the training range has a single class', details: { step: 'train', tries: 1 } });
    expect(calls).toEqual(['extract', 'train']);
    bad = false;
    const resumed = await runner.run(dag, { id: 'bad-1', trigger: 'manual', range: null, params: {} });
    expect(resumed.status).toBe('succeeded');
    expect(calls).toEqual(['extract', 'train', 'train', 'register']);
  });

  it('submitting the same run id twice runs its steps once', async () => {
    const calls: string[] = [];
    const dag = chainDag(calls, 'dup');
    const runner = await start([dag]);
    await Promise.all([runner.submit(dag, { id: 'dup-1', trigger: 'manual', range: null, params: {} }), runner.submit(dag, { id: 'dup-1', trigger: 'manual', range: null, params: {} })]);
    expect((await runner.wait('dup-1')).status).toBe('succeeded');
    expect(calls).toEqual(['extract', 'train', 'register']);
  });

  it('turns job scheduler ticks into runs over the lagged window', async () => {
    const calls: string[] = [];
    const dag = chainDag(calls, 'cron');
    const runner = await start([dag]);
    await runner.schedule(dag, { id: 'tick', cron: '* * * * * *', windowMs: 60_000, lagMs: 1_000, params: { n: 2 } });
    const run = await vi.waitFor(
      async () => {
        const done = (await store.listRuns({ trigger: 'cron' })).find((r) => r.status === 'succeeded');
        if (!done) throw new Error('no scheduled run finished yet');
        return done;
      },
      { timeout: 10_000, interval: 100 },
    );
    await runner.unschedule('tick');
    expect(run.id).toMatch(/^cron-tick-\d+$/);
    const at = Number(run.id.slice('cron-tick-'.length));
    expect(run.range).toEqual({ from: at - 61_000, to: at - 1_000 });
    expect(run.params).toEqual({ n: 2 });
  });
});
