/**
 * Acceptance: ≥ 200k simulated impressions, the join worker SIGKILLed at ≥ 5 random points and
 * restarted; the labels emitted (by impressionId) equal those of an uninterrupted run — 0 lost,
 * 0 duplicated — and the labels the generated events imply.
 */
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import type { Config } from '../src/core/index.ts';
import { checkCrashRecovery, produce, type CrashScenario } from './helpers/join-crash.ts';
import { tempDir } from './helpers/services.ts';

const dir = tempDir('join-crash');
afterAll(() => dir.remove());

function fileEvents(sub: string): Config['events'] {
  return { url: `file:${join(dir.dir, sub)}`, partitions: 4, fsync: 'interval', fsyncIntervalMs: 200, segmentBytes: 16 << 20, retentionBytes: 0, retentionMs: 0 };
}

describe('join crash test (file log)', () => {
  it('emits every label exactly once through 6+ SIGKILLs and restarts', { timeout: 300_000 }, async () => {
    const s: CrashScenario = {
      reference: fileEvents('reference'),
      crashed: fileEvents('crashed'),
      impressions: 200_000,
      windowMs: 10 * 60_000,
      kills: 6,
      seed: 20240601,
    };
    const expected = await produce(s.reference, s);
    cpSync(join(dir.dir, 'reference'), join(dir.dir, 'crashed'), { recursive: true });
    await checkCrashRecovery(s, expected);
  });
});
