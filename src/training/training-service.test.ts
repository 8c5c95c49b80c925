import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers/services.ts';
import { isPctrError, loadConfig } from '../core/index.ts';
import { TrainingService, backfillSlices, lagMs, runStoreUrl } from './training-service.ts';

const H = 3_600_000;

describe('training service', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('slices a backfill range, the last slice cut at the end', () => {
    expect(backfillSlices({ from: 0, to: 5 * H }, 2 * H)).toEqual([
      { from: 0, to: 2 * H },
      { from: 2 * H, to: 4 * H },
      { from: 4 * H, to: 5 * H },
    ]);
    expect(backfillSlices({ from: 0, to: H }, H)).toEqual([{ from: 0, to: H }]);
    for (const [range, every] of [[{ from: 0, to: H }, 0], [{ from: H, to: H }, H], [{ from: 0, to: 100_000 * H }, H]] as const) {
      let err: unknown;
      try {
        backfillSlices(range, every);
      } catch (e) {
        err = e;
      }
      expect(isPctrError(err, 'PCTR_VALIDATION')).toBe(true);
    }
  });

  it('keeps run history beside the registry unless told otherwise, and lags ranges by the label delay', () => {
    const env = (e: Record<string, string>) => loadConfig({ env: { PCTR_DATA_DIR: '/d', ...e } });
    expect(runStoreUrl(env({}))).toBe('sqlite:/d/runs.db');
    expect(runStoreUrl(env({ PCTR_REGISTRY: 'postgres://u@h/db?schema=s' }))).toBe('postgres://u@h/db?schema=s');
    expect(runStoreUrl(env({ PCTR_RUNS: 'sqlite:/x.db', PCTR_REGISTRY: 'postgres://u@h/db' }))).toBe('sqlite:/x.db');
    expect(lagMs(env({ PCTR_ATTRIBUTION_WINDOW: '30m', PCTR_MAX_OUT_OF_ORDERNESS: '10s' }))).toBe(30 * 60_000 + 10_000);
    expect(lagMs(env({ PCTR_TRAIN_LAG: '5m' }))).toBe(5 * 60_000);
  });

  it('builds parameters from the config and ranges from the event clock', async () => {
    const tmp = tempDir('service');
    cleanups.push(tmp.remove);
    const config = loadConfig({ env: { PCTR_DATA_DIR: tmp.dir, PCTR_TRAIN_WINDOW: '6h', PCTR_TRAIN_LAG: '1h', PCTR_GATE_MIN_AUC_GAIN: '0.001', PCTR_SAMPLE_NEGATIVES: '0.5', PCTR_MODEL_NAME: 'm1' } });
    const t = await TrainingService.open(config, { clock: { now: () => 100 * H } });
    cleanups.push(() => t.close());
    expect(t.runner.kind).toBe('embedded');
    expect(t.runs.location).toBe(`sqlite:${join(tmp.dir, 'runs.db')}`);
    expect(t.latestRange()).toEqual({ from: 93 * H, to: 99 * H });
    expect(t.params({ promote: false })).toEqual({ modelName: 'm1', kind: 'ftrl', sampleNegatives: 0.5, calibration: 'platt', gate: { minAucGain: 0.001, maxLoglossRatio: 1 }, promote: false });
    await expect(t.schedule('')).rejects.toThrow(/no cron expression/);
    const run = await t.runOnce({ id: 'nothing-there' });
    expect(run).toMatchObject({ status: 'failed', range: { from: 93 * H, to: 99 * H }, error: { code: 'PCTR_DATA_INVALID' } });
  });
});
