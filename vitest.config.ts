import { defineConfig } from 'vitest/config';

/**
 * The whole-loop tests drive `pctr start` flat out and judge what it learned (AUC gap, calibration,
 * aggregates reaching every worker): sharing the two cores with the rest of the suite starves their
 * learners and joins and moves those figures (calibration 1.13–1.18 in the suite, 0.99–1.11 alone).
 * They run after everything else, one file at a time.
 */
const WHOLE_LOOP = ['test/e2e-embedded.test.ts', 'test/start-workers.test.ts'];

export default defineConfig({
  test: {
    globalSetup: ['test/setup/services.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'suite', include: ['src/**/*.test.ts', 'test/**/*.test.ts'], exclude: WHOLE_LOOP, sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: 'whole-loop', include: WHOLE_LOOP, sequence: { groupOrder: 1 }, fileParallelism: false } },
    ],
  },
});
