import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticExamples } from '../../../test/helpers/synthetic-examples.ts';
import { tempDir } from '../../../test/helpers/services.ts';
import { silentLogger } from '../../core/index.ts';
import { createOfflineStore, type OfflineStore } from '../../features/index.ts';
import { createRegistry, type Registry } from '../../registry/index.ts';
import { defineDag } from '../dag.ts';
import { createRunStore, type RunStore } from '../run-store/index.ts';
import { EmbeddedRunner } from '../runners/embedded.ts';
import { batchPipeline } from './batch-pipeline.ts';
import { FILES, runDir, type BatchPipelineDeps } from './deps.ts';
import type { EvaluateOutput } from './steps/evaluate.step.ts';
import type { ExtractOutput } from './steps/extract.step.ts';
import type { ValidateOutput } from './steps/validate.step.ts';

const H = 3_600_000;
const T0 = Date.parse('2026-03-02T00:00:00Z');
const RANGE = { from: T0, to: T0 + 6 * H };
const SINGLE_CLASS = { from: T0 + 10 * H, to: T0 + 12 * H };

describe('batch pipeline (embedded, real offline store, registry and run store)', () => {
  let tmp: { dir: string; remove: () => void };
  let offline: OfflineStore;
  let registry: Registry;
  let runs: RunStore;
  let runner: EmbeddedRunner;
  let deps: BatchPipelineDeps;

  beforeAll(async () => {
    tmp = tempDir('batch');
    offline = createOfflineStore(`file:${join(tmp.dir, 'offline')}`);
    await offline.writeExamples(syntheticExamples({ n: 6_000, ...RANGE, seed: 1 }), 'good');
    await offline.writeExamples(syntheticExamples({ n: 400, ...SINGLE_CLASS, seed: 2, label: () => 0, idPrefix: 'neg' }), 'negatives');
    registry = await createRegistry({ url: `sqlite:${join(tmp.dir, 'registry.db')}`, artifacts: join(tmp.dir, 'artifacts'), logger: silentLogger });
    runs = await createRunStore(`sqlite:${join(tmp.dir, 'runs.db')}`);
    runner = new EmbeddedRunner({ store: runs, retry: { attempts: 2, backoffMs: 10 } });
    deps = { offline, registry, runs, workDir: join(tmp.dir, 'work'), codeVersion: 'test-1' };
  });

  afterAll(async () => {
    await runner.close();
    await runs.close();
    await registry.close();
    await offline.close();
    tmp.remove();
  });

  const params = (extra: Record<string, unknown> = {}) => ({ learner: { bits: 16 }, ...extra });

  it('trains a first model, promotes it over the base rate, and records the run with lineage', async () => {
    const run = await runner.run(batchPipeline(deps), { id: 'first', trigger: 'manual', range: RANGE, params: params() });
    expect(run.error).toBeNull();
    expect(run.status).toBe('succeeded');
    expect(run.steps.map((s) => [s.name, s.status])).toEqual(['extract', 'validate', 'train', 'evaluate', 'register', 'promote', 'cleanup'].map((s) => [s, 'succeeded']));
    const ex = run.steps[0].output as ExtractOutput;
    expect(ex.rows).toBe(6_000);
    expect(ex.test.rows).toBeGreaterThan(500);
    expect(ex.test.from).toBeGreaterThan(ex.train.to - 1);
    expect((run.steps[1].output as ValidateOutput).checks.every((c) => c.ok)).toBe(true);
    const ev = run.steps[3].output as EvaluateOutput;
    expect(ev.challenger.auc).toBeGreaterThan(0.7);
    expect(ev.gate).toMatchObject({ promote: true, against: 'baseline' });
    expect(run.gate).toMatchObject({ promoted: true, version: 1, championVersion: null });
    const champion = await registry.get('ctr', '@champion');
    expect(champion).toMatchObject({ version: 1, kind: 'ftrl', runId: 'first', codeVersion: 'test-1', dataRange: { from: ex.train.from, to: RANGE.to, rows: 6_000 } });
    expect(champion.description).toMatch(/^gate passed: beats the base rate/);
    expect(champion.metrics.auc).toBeCloseTo(ev.challenger.auc, 10);
    expect(existsSync(runDir(deps.workDir, 'first'))).toBe(false);
  });

  it('registers a worse model but keeps the champion, recording why', async () => {
    // L1 this strong keeps every weight at zero: the model cannot rank at all.
    const run = await runner.run(batchPipeline(deps), { id: 'worse', trigger: 'manual', range: RANGE, params: params({ learner: { bits: 16, l1: 1e6 } }) });
    expect(run.status).toBe('succeeded');
    const ev = run.steps.find((s) => s.name === 'evaluate')!.output as EvaluateOutput;
    expect(ev.championVersion).toBe(1);
    expect(ev.gate.promote).toBe(false);
    expect(run.gate).toMatchObject({ promoted: false, version: 2, championVersion: 1 });
    expect(run.gate!.reason).toMatch(/^kept champion v1: AUC 0\.5000 < champion v1's 0\.\d{4} \+ 0/);
    expect((await registry.get('ctr', '@champion')).version).toBe(1);
    const v2 = await registry.get('ctr', 2);
    expect(v2).toMatchObject({ parentVersion: 1, runId: 'worse' });
    expect(v2.description).toBe(`gate refused: ${run.gate!.reason}`);
  });

  it('validates against the last successful run and reports every failed check at once', async () => {
    const run = await runner.run(batchPipeline(deps), {
      id: 'strict',
      trigger: 'manual',
      range: RANGE,
      params: params({ validation: { minRows: 1_000_000, maxLabelRate: 0.01, maxPsi: 10 } }),
    });
    expect(run.status).toBe('failed');
    expect(run.error).toMatchObject({ code: 'PCTR_DATA_INVALID', details: { step: 'validate', tries: 1 } });
    expect(run.error!.message).toMatch(/failed 2 of \d+ checks: 6000 rows in the range \(at least 1000000 needed\); click rate [\d.]+% \(allowed 0\.01%–1\.00%\)/);
    const checks = (run.error!.details as { checks: { name: string; ok: boolean; message: string }[] }).checks;
    expect(checks.find((c) => c.name === 'drift')).toMatchObject({ ok: true, message: 'PSI at most 10 vs run worse' });
    expect((await registry.list('ctr')).length).toBe(2);
  });

  it('fails an empty range and a single-class range with a clear error, registering nothing', async () => {
    const empty = await runner.run(batchPipeline(deps), { trigger: 'manual', range: { from: T0 + 100 * H, to: T0 + 101 * H }, params: params() });
    expect(empty.status).toBe('failed');
    expect(empty.error).toMatchObject({ code: 'PCTR_DATA_INVALID', message: 'the offline store has no labeled examples in [2026-03-06T04:00:00.000Z, 2026-03-06T05:00:00.000Z): nothing to train on' });
    const single = await runner.run(batchPipeline(deps), { trigger: 'manual', range: SINGLE_CLASS, params: params() });
    expect(single.error).toMatchObject({ code: 'PCTR_DATA_INVALID', details: { step: 'extract', rows: 400, positives: 0 } });
    expect(single.error!.message).toMatch(/are all non-clicks \(400 rows\): a single class cannot train a click model/);
    expect(single.steps.map((s) => s.status)).toEqual(['failed', 'pending', 'pending', 'pending', 'pending', 'pending', 'pending']);
    expect((await registry.list('ctr')).length).toBe(2);
  });

  it('refuses a corrupted artifact with a clear error and registers nothing', async () => {
    const standard = batchPipeline(deps);
    // The same pipeline, with the artifact damaged on disk right after training.
    const damaged = defineDag(
      standard.name,
      standard.params,
      standard.steps.map((s) =>
        s.name !== 'train'
          ? s
          : {
              ...s,
              run: async (ctx) => {
                const out = await s.run(ctx);
                await writeFile(join(runDir(deps.workDir, ctx.runId), FILES.artifact), 'PCTRMDL1 not a model');
                return out;
              },
            },
      ),
    );
    const run = await runner.run(damaged, { id: 'corrupt', trigger: 'manual', range: RANGE, params: params() });
    expect(run.status).toBe('failed');
    expect(run.error).toMatchObject({ code: 'PCTR_ARTIFACT_CORRUPT', details: { step: 'evaluate', tries: 1 } });
    expect(run.error!.message).toMatch(/model artifact is corrupt/);
    expect((await registry.list('ctr')).map((v) => v.runId)).toEqual(['first', 'worse']);
    expect((await registry.get('ctr', '@champion')).version).toBe(1);
  });

  it('keeps a queryable history: newest first, filterable, with step durations', async () => {
    const all = await runs.listRuns({ pipeline: 'batch' });
    expect(all.length).toBe(6);
    expect(all.filter((r) => r.status === 'succeeded').map((r) => r.id).sort()).toEqual(['first', 'worse']);
    const first = all.find((r) => r.id === 'first')!;
    expect(first.steps.every((s) => s.durationMs! >= 0 && s.attempts === 1)).toBe(true);
    expect(first.params).toMatchObject({ modelName: 'ctr', kind: 'ftrl', sampleNegatives: 1, calibration: 'platt', gate: { minAucGain: 0, maxLoglossRatio: 1 }, promote: true });
  });
});
