/** The join crash test on the Redis Streams backend (see join-crash.test.ts). */
import { afterAll, describe, it } from 'vitest';
import type { Config } from '../src/core/index.ts';
import { checkCrashRecovery, produce, type CrashScenario } from './helpers/join-crash.ts';
import { dropRedisPrefix, redisUrl, uniqueName } from './helpers/services.ts';

const prefixes = [uniqueName('joincrash'), uniqueName('joincrash')];
afterAll(async () => {
  for (const p of prefixes) await dropRedisPrefix(p);
});

function redisEvents(prefix: string): Config['events'] {
  return { url: `${redisUrl()}?prefix=${prefix}`, partitions: 4, fsync: 'interval', fsyncIntervalMs: 200, segmentBytes: 16 << 20, retentionBytes: 0, retentionMs: 0 };
}

describe('join crash test (redis log)', () => {
  it('emits every label exactly once through 6+ SIGKILLs and restarts', { timeout: 300_000 }, async () => {
    const s: CrashScenario = {
      reference: redisEvents(prefixes[0]),
      crashed: redisEvents(prefixes[1]),
      // Half the file test's volume keeps the suite's wall time modest; the file test carries the 200k acceptance.
      impressions: 100_000,
      windowMs: 10 * 60_000,
      kills: 6,
      seed: 20240602,
    };
    const expected = await produce(s.reference, s);
    await produce(s.crashed, s);
    await checkCrashRecovery(s, expected);
  });
});
