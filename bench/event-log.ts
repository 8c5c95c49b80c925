/**
 * Event log micro benchmark: append and read throughput of the file backend (~400-byte impression
 * JSON, fsync `interval`, and `always` for reference), the cost of a transactional commit with a
 * multi-megabyte state, and the redis backend's append and read rates next to `redis-benchmark`
 * XADD with the same payload. Figures are records per wall second and per CPU second of this
 * process (the file log's writes run on libuv's thread pool, so wall rate can exceed one core).
 *
 *   node --import tsx bench/event-log.ts [--records 500000] [--redis redis://127.0.0.1:6379] [--json]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { loadConfig, type Impression } from '../src/core/index.ts';
import { createEventLog, type AppendRecord, type EventLog, type EventsSettings } from '../src/events/index.ts';
import { flag, fmt, hasFlag, median, printJson, printTable } from './lib/report.ts';

const RECORDS = Number(flag('records', '500000'));
const REDIS = flag('redis', 'redis://127.0.0.1:6379');
const RUNS = Number(flag('runs', '3'));
const PARTITIONS = 8;

function payloads(n: number): AppendRecord[] {
  const base: Impression = {
    type: 'impression',
    impressionId: '',
    requestId: 'req-0000000000',
    ts: 1_700_000_000_000,
    userId: 'user-12345',
    adId: 'ad-6789',
    campaignId: 'camp-42',
    bid: 1.25,
    position: 3,
    pCTR: 0.0231,
    modelVersion: 'ctr@12',
    features: { site: 'news.example', device: 'mobile', hour: 13, user_ctr_1h: 0.021, ad_ctr_24h: 0.034, category: 'sports', country: 'FR', os: 'android' },
  };
  return Array.from({ length: n }, (_, i) => {
    const impressionId = `imp-${i.toString(36).padStart(10, '0')}`;
    return { key: impressionId, value: JSON.stringify({ ...base, impressionId, requestId: `req-${i}` }) };
  });
}

interface Rate {
  wall: number;
  cpu: number;
}

async function timed(n: number, fn: () => Promise<void>): Promise<Rate> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const wallS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { wall: n / wallS, cpu: n / ((cpu.user + cpu.system) / 1e6) };
}

async function appendAll(log: EventLog, topic: string, recs: readonly AppendRecord[], batch: number): Promise<void> {
  for (let i = 0; i < recs.length; i += batch) await log.append(topic, recs.slice(i, i + batch));
}

async function readAll(log: EventLog, topic: string, n: number): Promise<void> {
  const c = log.subscribe(topic, 'bench');
  let got = 0;
  while (got < n) got += (await c.poll(10_000, 1000)).records.length;
  await c.close();
}

/** Read with a transactional consumer (XREAD on redis, no consumer-group bookkeeping). */
async function readTransactional(log: EventLog, topic: string, n: number): Promise<void> {
  const c = log.transactional(topic, 'bench-tx', { partitions: Array.from({ length: PARTITIONS }, (_, p) => p) });
  await c.restore();
  let got = 0;
  while (got < n) got += (await c.poll(10_000, 1000)).records.length;
  await c.close();
}

function settings(url: string, o: Partial<EventsSettings> = {}): EventsSettings {
  return { ...loadConfig({ env: {} }).events, url, partitions: PARTITIONS, ...o };
}

function medianRate(rs: Rate[]): Rate {
  return { wall: median(rs.map((r) => r.wall)), cpu: median(rs.map((r) => r.cpu)) };
}

async function fileBench(recs: AppendRecord[]): Promise<Record<string, Rate | number>> {
  const out: Record<string, Rate[]> = { append_1k: [], append_10k: [], append_always_1k: [], read: [] };
  const commitMs: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const dir = mkdtempSync(join(tmpdir(), 'pctr-bench-ev-'));
    try {
      const log = await createEventLog(settings(`file:${dir}`, { fsync: 'interval' }));
      out.append_1k.push(await timed(recs.length, () => appendAll(log, 'a', recs, 1000)));
      out.append_10k.push(await timed(recs.length, () => appendAll(log, 'b', recs, 10_000)));
      out.read.push(await timed(recs.length, () => readAll(log, 'b', recs.length)));
      await log.close();
      const always = await createEventLog(settings(`file:${dir}`, { fsync: 'always' }));
      const some = recs.slice(0, Math.min(recs.length, 100_000));
      out.append_always_1k.push(await timed(some.length, () => appendAll(always, 'c', some, 1000)));
      commitMs.push(await commitCost(always, recs));
      await always.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return { ...Object.fromEntries(Object.entries(out).map(([k, v]) => [k, medianRate(v)])), commit_ms: median(commitMs) };
}

/** One transactional commit of 20k outputs with a 4 MB state on each of 8 partitions (32 MB), in ms. */
async function commitCost(log: EventLog, recs: readonly AppendRecord[]): Promise<number> {
  const tx = log.transactional('c', 'bench', { partitions: Array.from({ length: PARTITIONS }, (_, p) => p) });
  await tx.restore();
  const state = new Map(Array.from({ length: PARTITIONS }, (_, p) => [p, 's'.repeat(4 << 20)] as const));
  const outputs = [{ topic: 'out', records: recs.slice(0, 20_000) }];
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    await tx.commit({ offsets: new Map(), outputs, state });
    times.push(performance.now() - t0);
  }
  await tx.close();
  return median(times);
}

async function redisBench(recs: AppendRecord[]): Promise<Record<string, Rate | number>> {
  const n = Math.min(recs.length, 300_000);
  const some = recs.slice(0, n);
  const appends: Rate[] = [];
  const reads: Rate[] = [];
  const txReads: Rate[] = [];
  const xadds: number[] = [];
  const ratios: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const prefix = `bench-ev-${process.pid}-${run}`;
    const log = await createEventLog(settings(`${REDIS}?prefix=${prefix}`));
    // Raw XADD right after our append in every run, so both see the same load; the ratio is per run.
    appends.push(await timed(n, () => appendAll(log, 'a', some, 10_000)));
    xadds.push(redisBenchmarkXadd(recs[0].value));
    ratios.push(xadds[run] / appends[run].wall);
    reads.push(await timed(n, () => readAll(log, 'a', n)));
    txReads.push(await timed(n, () => readTransactional(log, 'a', n)));
    await log.close();
    const r = new Redis(REDIS);
    const keys = await r.keys(`${prefix}:*`);
    if (keys.length) await r.del(...keys);
    r.disconnect();
  }
  return { append_10k: medianRate(appends), read: medianRate(reads), tx_read: medianRate(txReads), xadd_per_s: median(xadds), xadd_ratio: median(ratios) };
}

/** `redis-benchmark -P 16 XADD key * v <payload>`: requests per second. */
function redisBenchmarkXadd(payload: string): number {
  const u = new URL(REDIS);
  const key = `bench-ev-xadd-${process.pid}`;
  const out = execFileSync('redis-benchmark', ['-h', u.hostname, '-p', u.port || '6379', '-n', '200000', '-P', '16', '-q', 'XADD', key, '*', 'v', payload], { encoding: 'utf8' });
  execFileSync('redis-cli', ['-h', u.hostname, '-p', u.port || '6379', 'DEL', key]);
  const m = /([\d.]+) requests per second/.exec(out.split('\r').pop() ?? out);
  return m ? Number(m[1]) : NaN;
}

const recs = payloads(RECORDS);
const bytes = recs.reduce((s, r) => s + Buffer.byteLength(r.value), 0) / recs.length;
process.stderr.write(`bench:event-log: ${RECORDS} records of ${bytes.toFixed(0)} bytes, ${PARTITIONS} partitions, median of ${RUNS}, load ${loadavg()[0].toFixed(1)}\n`);
const file = await fileBench(recs);
const redis = await redisBench(recs);
const r = (x: Rate | number) => x as Rate;
printTable('event log throughput (records/s)', ['case', 'wall', 'per CPU s'], [
  ['file append, batches of 1k (fsync interval)', fmt(r(file.append_1k).wall), fmt(r(file.append_1k).cpu)],
  ['file append, batches of 10k (fsync interval)', fmt(r(file.append_10k).wall), fmt(r(file.append_10k).cpu)],
  ['file append, batches of 1k (fsync always)', fmt(r(file.append_always_1k).wall), fmt(r(file.append_always_1k).cpu)],
  ['file read (poll 10k)', fmt(r(file.read).wall), fmt(r(file.read).cpu)],
  ['redis append, batches of 10k', fmt(r(redis.append_10k).wall), fmt(r(redis.append_10k).cpu)],
  ['redis read (consumer group, poll 10k)', fmt(r(redis.read).wall), fmt(r(redis.read).cpu)],
  ['redis read (transactional, poll 10k)', fmt(r(redis.tx_read).wall), fmt(r(redis.tx_read).cpu)],
  ['redis-benchmark XADD -P 16', fmt(redis.xadd_per_s as number), '-'],
]);
process.stdout.write(`\ntransactional commit (20k outputs + 8 × 4 MB state, fsync always): ${fmt(file.commit_ms as number)} ms\n`);
process.stdout.write(`redis append is ${(redis.xadd_ratio as number).toFixed(2)}× below raw XADD (median of per-run ratios)\n`);
if (hasFlag('json')) {
  printJson({
    record_bytes: Math.round(bytes),
    load_avg_1m: loadavg()[0],
    file_append_per_s: r(file.append_10k).wall,
    file_append_1k_per_s: r(file.append_1k).wall,
    file_append_per_cpu_s: r(file.append_10k).cpu,
    file_append_always_per_s: r(file.append_always_1k).wall,
    file_read_per_s: r(file.read).wall,
    file_read_per_cpu_s: r(file.read).cpu,
    file_commit_ms: file.commit_ms,
    redis_append_per_s: r(redis.append_10k).wall,
    redis_read_per_s: r(redis.read).wall,
    redis_tx_read_per_s: r(redis.tx_read).wall,
    redis_xadd_per_s: redis.xadd_per_s,
    redis_xadd_ratio: redis.xadd_ratio,
  });
}
