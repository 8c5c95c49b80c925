import { describe, expect, it } from 'vitest';
import { loadConfig } from '../core/index.ts';
import { joinWindowFromConfig, parsePartitionList, parseWorkerSpec, workerPartitions } from './options.ts';

describe('join options', () => {
  it('splits partitions statically among workers, each partition to exactly one', () => {
    const all = [0, 1, 2].flatMap((i) => workerPartitions(8, i, 3));
    expect(workerPartitions(8, 1, 3)).toEqual([1, 4, 7]);
    expect(all.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(() => workerPartitions(8, 3, 3)).toThrow(/0 ≤ index < count/);
    expect(() => workerPartitions(2, 0, 3)).toThrow(/3 join workers for 2 partitions/);
  });

  it('parses --worker i/N and --partitions lists, naming what is wrong', () => {
    expect(parseWorkerSpec('2/4')).toEqual({ index: 2, count: 4 });
    expect(() => parseWorkerSpec('2 of 4')).toThrow(/not i\/N/);
    expect(parsePartitionList('4, 0,2,2', 8)).toEqual([0, 2, 4]);
    expect(() => parsePartitionList('0,9', 8)).toThrow(/"9" is not a partition number in 0..7/);
  });

  it('takes the window and bound from the config, the late-click horizon defaulting to one window', () => {
    const config = loadConfig({ env: { PCTR_ATTRIBUTION_WINDOW: '5m', PCTR_MAX_OUT_OF_ORDERNESS: '2s' } });
    expect(joinWindowFromConfig(config)).toEqual({ attributionWindowMs: 300_000, maxOutOfOrdernessMs: 2000, lateClickHorizonMs: 300_000 });
    expect(joinWindowFromConfig(config, 60_000).lateClickHorizonMs).toBe(60_000);
  });
});
