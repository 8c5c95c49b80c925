/**
 * The RunStore contract suite: every backend must pass it unchanged (src/training/run-store/*.test.ts
 * call it with their factory). It checks what run-store.ts promises: idempotent creation, steps in
 * order with pending placeholders, attempts counted per start, first completion wins, a succeeded
 * step is never restarted, a succeeded run never turns failed, queries newest first, PCTR_NOT_FOUND.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { isPctrError } from '../../src/core/index.ts';
import type { NewRun, RunStore } from '../../src/training/index.ts';

export interface RunStoreBackend {
  /** A fresh, empty store (its own file or schema). */
  create(): Promise<RunStore>;
  cleanup(): Promise<void>;
}

const run = (id: string, extra: Partial<NewRun> = {}): NewRun => ({
  id,
  pipeline: 'batch',
  trigger: 'manual',
  range: { from: 1_000, to: 2_000 },
  params: { modelName: 'ctr', gate: { minAucGain: 0 } },
  steps: ['extract', 'train', 'promote'],
  ...extra,
});

export function runStoreContract(name: string, backend: RunStoreBackend): void {
  describe(`RunStore contract: ${name}`, () => {
    const open: RunStore[] = [];
    const create = async () => {
      const s = await backend.create();
      open.push(s);
      return s;
    };
    afterEach(async () => {
      for (const s of open.splice(0)) await s.close();
      await backend.cleanup();
    });

    it('creates a run once per id, with every step pending', async () => {
      const store = await create();
      const first = await store.createRun(run('r1'));
      expect(first).toMatchObject({ id: 'r1', pipeline: 'batch', trigger: 'manual', status: 'pending', range: { from: 1_000, to: 2_000 }, gate: null, error: null });
      expect(first.params).toEqual({ modelName: 'ctr', gate: { minAucGain: 0 } });
      expect(first.steps.map((s) => [s.name, s.status, s.attempts])).toEqual([
        ['extract', 'pending', 0],
        ['train', 'pending', 0],
        ['promote', 'pending', 0],
      ]);
      const again = await store.createRun(run('r1', { trigger: 'cron', params: { other: true } }));
      expect(again).toEqual(first);
    });

    it('counts attempts, keeps the latest error, and marks the run running', async () => {
      const store = await create();
      await store.createRun(run('r2'));
      expect(await store.startStep('r2', 'extract')).toEqual({ alreadySucceeded: false, attempt: 1 });
      expect((await store.getRun('r2')).status).toBe('running');
      await store.failStep('r2', 'extract', { code: 'PCTR_BACKEND_UNAVAILABLE', message: 'redis down', details: { tries: 1 } }, 12);
      let r = await store.getRun('r2');
      expect(r.steps[0]).toMatchObject({ status: 'failed', attempts: 1, durationMs: 12, error: { code: 'PCTR_BACKEND_UNAVAILABLE', message: 'redis down', details: { tries: 1 } } });
      expect(await store.startStep('r2', 'extract')).toEqual({ alreadySucceeded: false, attempt: 2 });
      r = await store.getRun('r2');
      expect(r.steps[0]).toMatchObject({ status: 'running', attempts: 2, error: null });
    });

    it('keeps the first completion of a step and never restarts it', async () => {
      const store = await create();
      await store.createRun(run('r3'));
      await store.startStep('r3', 'extract');
      expect(await store.completeStep('r3', 'extract', { rows: 10, path: 'a' }, 5)).toEqual({ rows: 10, path: 'a' });
      expect(await store.completeStep('r3', 'extract', { rows: 99 }, 5)).toEqual({ rows: 10, path: 'a' });
      expect(await store.startStep('r3', 'extract')).toEqual({ alreadySucceeded: true, output: { rows: 10, path: 'a' } });
      await store.failStep('r3', 'extract', { code: 'PCTR_INTERNAL', message: 'late failure' }, 1);
      const step = (await store.getRun('r3')).steps[0];
      expect(step).toMatchObject({ status: 'succeeded', attempts: 1, output: { rows: 10, path: 'a' }, error: null });
      expect(step.startedAt).toBeGreaterThan(0);
      expect(step.finishedAt).toBeGreaterThanOrEqual(step.startedAt!);
    });

    it('finishes a run, records its gate, and never turns a succeeded run into a failed one', async () => {
      const store = await create();
      await store.createRun(run('r4'));
      await store.startStep('r4', 'extract');
      await store.recordGate('r4', { promoted: false, reason: 'AUC 0.61 < champion 0.70', version: 3, championVersion: 2 });
      const done = await store.finishRun('r4', { status: 'succeeded' });
      expect(done).toMatchObject({ status: 'succeeded', error: null, gate: { promoted: false, reason: 'AUC 0.61 < champion 0.70', version: 3, championVersion: 2 } });
      expect(done.finishedAt).toBeGreaterThan(0);
      const after = await store.finishRun('r4', { status: 'failed', error: { code: 'PCTR_INTERNAL', message: 'x' } });
      expect(after.status).toBe('succeeded');

      await store.createRun(run('r5'));
      const failed = await store.finishRun('r5', { status: 'failed', error: { code: 'PCTR_DATA_INVALID', message: 'no rows' } });
      expect(failed).toMatchObject({ status: 'failed', error: { code: 'PCTR_DATA_INVALID', message: 'no rows' } });
      // Resubmitting a failed run reopens it; starting a step puts it back to running.
      expect(await store.reopenRun('r5')).toMatchObject({ status: 'pending', error: null, finishedAt: null });
      expect((await store.reopenRun('r4')).status).toBe('succeeded');
      await store.startStep('r5', 'train');
      expect((await store.getRun('r5')).status).toBe('running');
    });

    it('lists runs newest first with filters, and finds the last successful run of a pipeline', async () => {
      const store = await create();
      for (const id of ['a1', 'a2', 'a3']) await store.createRun(run(id));
      await store.createRun(run('b1', { pipeline: 'other', trigger: 'cron', range: null }));
      await store.finishRun('a1', { status: 'succeeded' });
      await store.finishRun('a2', { status: 'failed', error: { code: 'PCTR_INTERNAL', message: 'x' } });
      expect((await store.listRuns()).map((r) => r.id).slice(0, 4)).toEqual(['b1', 'a3', 'a2', 'a1']);
      expect((await store.listRuns({ limit: 2 })).length).toBe(2);
      expect((await store.listRuns({ pipeline: 'batch', status: 'failed' })).map((r) => r.id)).toEqual(['a2']);
      expect((await store.listRuns({ trigger: 'cron' })).map((r) => [r.id, r.range])).toEqual([['b1', null]]);
      expect((await store.lastSucceeded('batch'))?.id).toBe('a1');
      expect(await store.lastSucceeded('batch', 'a1')).toBeNull();
      expect(await store.lastSucceeded('other')).toBeNull();
    });

    it('answers an unknown run with PCTR_NOT_FOUND naming it', async () => {
      const store = await create();
      expect(await store.findRun('nope')).toBeNull();
      const err = await store.getRun('nope').catch((e: unknown) => e);
      expect(isPctrError(err, 'PCTR_NOT_FOUND')).toBe(true);
      expect((err as Error).message).toContain('"nope"');
    });

    it('serializes concurrent starts of one step into distinct attempt numbers', async () => {
      const store = await create();
      await store.createRun(run('c1'));
      const starts = await Promise.all(Array.from({ length: 8 }, () => store.startStep('c1', 'train')));
      const attempts = starts.map((s) => (s.alreadySucceeded ? -1 : s.attempt)).sort((a, b) => a - b);
      expect(attempts).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    });
  });
}
