// scratch harness (not committed): producer append cost and join catch-up cost, in-process, CPU time.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEventLog } from '../src/events/index.ts';
import { JoinWorker } from '../src/join/index.ts';
import { generateEventRecords } from '../src/sim/index.ts';

const N = Number(process.env.N ?? 300000);
const WINDOW = { attributionWindowMs: 30 * 60_000, maxOutOfOrdernessMs: 10_000, lateClickHorizonMs: 30 * 60_000 };
const batches = [...generateEventRecords({ seed: 7, impressions: N, ratePerSec: 50, windowMs: WINDOW.attributionWindowMs, batchSize: 8192 })];
for (const b of batches) for (const r of [...b.impressions, ...b.clicks]) Number(r.value);
const events = batches.reduce((n, b) => n + b.impressions.length + b.clicks.length, 0);
const cpu = (c0: NodeJS.CpuUsage) => { const c = process.cpuUsage(c0); return (c.user + c.system) / 1e6; };
const what = process.env.WHAT ?? 'both';
for (let rep = 0; rep < Number(process.env.REPS ?? 3); rep++) {
  const dir = mkdtempSync(join(tmpdir(), 'h4micro-'));
  const settings = { url: `file:${dir}`, partitions: 8, fsync: 'interval' as const, fsyncIntervalMs: 200, segmentBytes: 64 << 20, retentionBytes: 0, retentionMs: 0 };
  const log = await createEventLog(settings);
  let c0 = process.cpuUsage();
  for (const b of batches) { await log.append('impressions', b.impressions); await log.append('clicks', b.clicks); }
  const prod = cpu(c0);
  await log.close();
  let joinS = NaN;
  if (what !== 'producer') {
    const log2 = await createEventLog(settings);
    const w = await JoinWorker.open(log2, { ...WINDOW, partitions: [0, 1, 2, 3, 4, 5, 6, 7], checkpointIntervalMs: 1000, idleTimeoutMs: 2000 });
    c0 = process.cpuUsage();
    await w.run({ untilCaughtUp: true });
    joinS = cpu(c0);
    await w.close();
    await log2.close();
  }
  rmSync(dir, { recursive: true, force: true });
  console.log(`producer ${(events / prod / 1e3).toFixed(1)}k ev/cpu-s   join ${(events / joinS / 1e3).toFixed(1)}k ev/cpu-s   combined ${(events / (prod + joinS) / 1e3).toFixed(1)}k`);
}
