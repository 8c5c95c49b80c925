import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { tempDir } from '../../../test/helpers/services.ts';
import { PctrError, isPctrError } from '../../core/index.ts';
import { defineDag, type StepDef } from '../dag.ts';
import { createRunStore, type RunStore } from '../run-store/index.ts';
import { EmbeddedRunner } from './embedded.ts';

const Params = z.object({ factor: z.number().default(2) });
type Params = z.output<typeof Params>;

/** A diamond: a → (b, c) → d, each step logging its start in `calls`. */
function diamond(calls: string[], overrides: Partial<Record<string, StepDef<Params>['run']>> = {}) {
  const step = (name: string, deps: string[], run: StepDef<Params>['run']): StepDef<Params> => ({
    name,
    deps,
    run: async (ctx) => {
      calls.push(name);
      return (overrides[name] ?? run)(ctx);
    },
  });
  return defineDag('diamond', Params, [
    step('d', ['b', 'c'], async (ctx) => ({ sum: (ctx.inputs.b as { v: number }).v + (ctx.inputs.c as { v: number }).v })),
    step('b', ['a'], async (ctx) => ({ v: (ctx.inputs.a as { v: number }).v * ctx.params.factor })),
    step('a', [], async (ctx) => ({ v: ctx.range!.to - ctx.range!.from })),
    step('c', ['a'], async (ctx) => ({ v: (ctx.inputs.a as { v: number }).v + 1 })),
  ]);
}

describe('DAG definition', () => {
  it('orders steps topologically, ties in definition order', () => {
    expect(diamond([]).order).toEqual(['a', 'b', 'c', 'd']);
  });

  it('refuses cycles, unknown dependencies, duplicates and bad names, naming them', () => {
    const noop = async () => null;
    const cases: [() => unknown, RegExp][] = [
      [() => defineDag('p', Params, [{ name: 'x', deps: ['y'], run: noop }, { name: 'y', deps: ['x'], run: noop }]), /cycle among steps x, y/],
      [() => defineDag('p', Params, [{ name: 'x', deps: ['nope'], run: noop }]), /unknown step nope/],
      [() => defineDag('p', Params, [{ name: 'x', deps: [], run: noop }, { name: 'x', deps: [], run: noop }]), /step x twice/],
      [() => defineDag('P Q', Params, [{ name: 'x', deps: [], run: noop }]), /pipeline name "P Q"/],
    ];
    for (const [make, message] of cases) {
      let err: unknown;
      try {
        make();
      } catch (e) {
        err = e;
      }
      expect(isPctrError(err, 'PCTR_VALIDATION')).toBe(true);
      expect((err as Error).message).toMatch(message);
    }
  });
});

describe('embedded runner', () => {
  let dir: { dir: string; remove: () => void };
  let store: RunStore;
  let runner: EmbeddedRunner;

  beforeEach(async () => {
    dir = tempDir('embedded');
    store = await createRunStore(`sqlite:${join(dir.dir, 'runs.db')}`);
    runner = new EmbeddedRunner({ store, retry: { attempts: 3, backoffMs: 5 } });
  });

  afterEach(async () => {
    await runner.close();
    await store.close();
    dir.remove();
  });

  it('runs steps in dependency order, passing outputs, and records the run', async () => {
    const calls: string[] = [];
    const run = await runner.run(diamond(calls), { trigger: 'manual', range: { from: 100, to: 110 }, params: {} });
    expect(calls).toEqual(['a', 'b', 'c', 'd']);
    expect(run.status).toBe('succeeded');
    expect(run.params).toEqual({ factor: 2 });
    expect(run.steps.map((s) => [s.name, s.status, s.attempts, s.output])).toEqual([
      ['a', 'succeeded', 1, { v: 10 }],
      ['b', 'succeeded', 1, { v: 20 }],
      ['c', 'succeeded', 1, { v: 11 }],
      ['d', 'succeeded', 1, { sum: 31 }],
    ]);
    expect(run.steps.every((s) => s.durationMs !== null && s.durationMs >= 0)).toBe(true);
  });

  it('re-running a finished run id runs nothing again', async () => {
    const calls: string[] = [];
    const dag = diamond(calls);
    await runner.run(dag, { id: 'same', trigger: 'manual', range: { from: 0, to: 1 }, params: {} });
    const again = await runner.run(dag, { id: 'same', trigger: 'manual', range: { from: 0, to: 1 }, params: {} });
    expect(calls).toEqual(['a', 'b', 'c', 'd']);
    expect(again.status).toBe('succeeded');
  });

  it('retries a step that fails twice, then succeeds, with the attempts recorded', async () => {
    const calls: string[] = [];
    let failures = 0;
    const dag = diamond(calls, {
      c: async () => {
        if (failures++ < 2) throw new PctrError('PCTR_BACKEND_UNAVAILABLE', `flaky store (failure ${failures})`);
        return { v: 1 };
      },
    });
    const run = await runner.run(dag, { trigger: 'manual', range: { from: 0, to: 1 }, params: {} });
    expect(run.status).toBe('succeeded');
    expect(calls).toEqual(['a', 'b', 'c', 'c', 'c', 'd']);
    expect(run.steps.find((s) => s.name === 'c')).toMatchObject({ status: 'succeeded', attempts: 3, error: null });
  });

  it('fails the run when a step runs out of tries, and resumes it from that step', async () => {
    const calls: string[] = [];
    let broken = true;
    const dag = diamond(calls, {
      c: async () => {
        if (broken) throw new Error('disk full');
        return { v: 5 };
      },
    });
    const failed = await runner.run(dag, { id: 'resume-me', trigger: 'manual', range: { from: 0, to: 1 }, params: {} });
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatchObject({ code: 'PCTR_INTERNAL', message: 'disk full', details: { step: 'c', tries: 3 } });
    expect(failed.steps.map((s) => s.status)).toEqual(['succeeded', 'succeeded', 'failed', 'pending']);
    broken = false;
    calls.length = 0;
    const resumed = await runner.run(dag, { id: 'resume-me', trigger: 'manual', range: { from: 0, to: 1 }, params: {} });
    expect(calls).toEqual(['c', 'd']);
    expect(resumed.status).toBe('succeeded');
    expect(resumed.steps.find((s) => s.name === 'c')?.attempts).toBe(4);
  });

  it('does not retry failures a retry cannot fix', async () => {
    const calls: string[] = [];
    const dag = diamond(calls, {
      a: async () => {
        throw new PctrError('PCTR_DATA_INVALID', 'the range holds no labeled examples');
      },
    });
    const run = await runner.run(dag, { trigger: 'manual', range: { from: 0, to: 1 }, params: {} });
    expect(calls).toEqual(['a']);
    expect(run.error).toMatchObject({ code: 'PCTR_DATA_INVALID', message: 'the range holds no labeled examples' });
  });

  it('runs one run at a time per pipeline', async () => {
    let active = 0;
    let maxActive = 0;
    const calls: string[] = [];
    const slow = async () => {
      active++;
      maxActive = Math.max(maxActive, active);
      await new Promise((r) => setImmediate(r));
      active--;
      return { v: 1 };
    };
    const dag = diamond(calls, { a: slow, b: slow, c: slow, d: slow });
    const runs = await Promise.all([1, 2, 3].map(() => runner.submit(dag, { trigger: 'manual', range: { from: 0, to: 1 }, params: {} })));
    const done = await Promise.all(runs.map((r) => runner.wait(r.id)));
    expect(done.map((r) => r.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    expect(maxActive).toBe(1);
    expect(calls.join('')).toBe('abcd'.repeat(3));
  });

  it('validates parameters and ranges before creating a run', async () => {
    const dag = diamond([]);
    await expect(runner.submit(dag, { trigger: 'manual', range: { from: 0, to: 1 }, params: { factor: 'x' } })).rejects.toThrow(/parameters of pipeline diamond: factor/);
    await expect(runner.submit(dag, { trigger: 'manual', range: { from: 5, to: 5 }, params: {} })).rejects.toThrow(/from < to/);
    expect(await store.listRuns()).toEqual([]);
  });

  it('starts runs on a cron schedule over the lagged window', async () => {
    const calls: string[] = [];
    const dag = diamond(calls);
    const clock = { now: () => 1_000_000 };
    const scheduled = new EmbeddedRunner({ store, clock });
    try {
      await scheduled.schedule(dag, { id: 'every-second', cron: '* * * * * *', windowMs: 500, lagMs: 100, params: { factor: 3 } });
      const run = await vi.waitFor(
        async () => {
          const done = (await store.listRuns({ trigger: 'cron' })).find((r) => r.status === 'succeeded');
          if (!done) throw new Error('no scheduled run has finished yet');
          return done;
        },
        { timeout: 5_000, interval: 50 },
      );
      expect(run.range).toEqual({ from: 1_000_000 - 600, to: 1_000_000 - 100 });
      expect(run.steps.find((s) => s.name === 'd')?.output).toEqual({ sum: 500 * 3 + 501 });
      await expect(scheduled.schedule(dag, { id: 'bad', cron: 'every day', windowMs: 1, lagMs: 0, params: {} })).rejects.toThrow(/cron expression "every day" is invalid/);
    } finally {
      await scheduled.close();
    }
  });
});
