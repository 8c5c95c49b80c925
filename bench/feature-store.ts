/**
 * Feature store benchmark: the online read of one rank request (1 user + 100 ads + 20 campaigns +
 * 20 user×categories = 141 refs in one call) on Redis and in memory, alone and with served-feature
 * assembly, sequential and open-loop at the serving rate; Redis write throughput; the aggregator's
 * events/s (state machine alone, and through the file event log); offline sink write and read rates.
 *
 *   node --import tsx bench/feature-store.ts [--calls 10000] [--rate 1500] [--events 200000] [--json]
 */
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { dropRedisPrefix, redisUrl, tempDir, uniqueName } from '../test/helpers/services.ts';
import { TOPICS } from '../src/core/index.ts';
import { createEventLog } from '../src/events/index.ts';
import {
  AggregateRunner,
  Aggregator,
  ENTITY_LAYOUTS,
  MemoryOnlineStore,
  OfflineSink,
  ParquetOfflineStore,
  ServedBatchWriter,
  createOnlineStore,
  entityRefs,
  servedFeatureSchema,
  type EntityType,
  type FeatureRow,
  type OnlineStore,
  type RankRequestLike,
} from '../src/features/index.ts';
import { fmt, flag, hasFlag, percentile, printJson, printTable } from './lib/report.ts';

const CALLS = Number(flag('calls', '10000'));
const EVENTS = Number(flag('events', '200000'));
/** The serving target: 1,500 rank requests per second. */
const RATE = Number(flag('rate', '1500'));
const USERS = 1000;
const ADS = 2000;
const CAMPAIGNS = 200;
const CATEGORIES = 20;

let seed = 42;
const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
const pick = (n: number) => Math.floor(rand() * n);

/** A request with 100 distinct ads over 20 distinct campaigns (5 ads each) and 20 categories: 141 entities. */
function request(): RankRequestLike {
  const campaigns = new Set<number>();
  while (campaigns.size < 20) campaigns.add(pick(CAMPAIGNS));
  const list = [...campaigns];
  const offset = pick(ADS / CAMPAIGNS);
  const candidates = Array.from({ length: 100 }, (_, j) => {
    const c = list[j % 20];
    // Ad ids c + 200·k (k distinct per campaign) keep every ad in its campaign and all 100 distinct.
    const ad = c + CAMPAIGNS * ((offset + Math.floor(j / 20)) % (ADS / CAMPAIGNS));
    return { adId: `ad${ad}`, campaignId: `camp${c}`, category: `cat${j % CATEGORIES}` };
  });
  return { userId: `user${pick(USERS)}`, context: { hour: 13, device: 'mobile', site: 'site3' }, candidates };
}

function vector(entity: EntityType): Record<string, number> {
  return Object.fromEntries(ENTITY_LAYOUTS[entity].map((n) => [n, n.includes('ctr') ? rand() * 0.1 : Math.floor(rand() * 1000)]));
}

async function populate(store: OnlineStore): Promise<void> {
  const rows: FeatureRow[] = [];
  for (let u = 0; u < USERS; u++) {
    rows.push({ ref: { entity: 'user', key: `user${u}` }, values: vector('user'), ts: 1 });
    for (let c = 0; c < CATEGORIES; c++) rows.push({ ref: { entity: 'user_category', key: `user${u}|cat${c}` }, values: vector('user_category'), ts: 1 });
  }
  for (let a = 0; a < ADS; a++) rows.push({ ref: { entity: 'ad', key: `ad${a}` }, values: vector('ad'), ts: 1 });
  for (let c = 0; c < CAMPAIGNS; c++) rows.push({ ref: { entity: 'campaign', key: `camp${c}` }, values: vector('campaign'), ts: 1 });
  await store.put(rows);
}

interface ReadFigures {
  get_p50_ms: number;
  get_p99_ms: number;
  assemble_p50_ms: number;
  assemble_p99_ms: number;
  /** CPU time of this process per fetch + assemble (the store's own CPU excluded): what the rate costs, whatever the load. */
  assemble_cpu_us: number;
  open_loop_req_per_s: number;
  open_loop_p50_ms: number;
  open_loop_p99_ms: number;
  open_loop_fallbacks: number;
  refs: number;
}

/** `store` for the sequential latencies (generous budget), `serving` (the ranking path's 20 ms budget) for the open loop. */
async function readBench(store: OnlineStore, serving: OnlineStore): Promise<ReadFigures> {
  const requests = Array.from({ length: 256 }, request);
  const refsPer = requests.map(entityRefs);
  const writer = new ServedBatchWriter();
  const writers = Array.from({ length: 64 }, () => new ServedBatchWriter());
  for (let i = 0; i < 500; i++) await store.get(refsPer[i % 256].refs);
  const get = new Float64Array(CALLS);
  for (let i = 0; i < CALLS; i++) {
    const t0 = performance.now();
    await store.get(refsPer[i % 256].refs);
    get[i] = performance.now() - t0;
  }
  const assemble = new Float64Array(CALLS);
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < CALLS; i++) {
    const t0 = performance.now();
    const req = requests[i % 256];
    const e = entityRefs(req);
    writer.write(req, e, await store.get(e.refs));
    assemble[i] = performance.now() - t0;
  }
  const cpu = process.cpuUsage(cpu0);
  const cpuPerRequestUs = (cpu.user + cpu.system) / CALLS;
  // Open loop at the serving target rate for 3 s: latency counts from when a request was due, so
  // falling behind shows up as latency instead of as a lower rate.
  const lat: number[] = [];
  const inflight: Promise<void>[] = [];
  let fallbacks = 0;
  const start = performance.now();
  let issued = 0;
  while (performance.now() - start < 3000) {
    const due = Math.floor(((performance.now() - start) * RATE) / 1000);
    for (; issued < due; issued++) {
      const dueAt = start + (issued * 1000) / RATE;
      const req = requests[issued % 256];
      inflight.push(
        (async () => {
          const e = entityRefs(req);
          // As the ranker does: a failed or slow read serves the defaults.
          const vectors = await serving.get(e.refs).catch(() => {
            fallbacks++;
            return null;
          });
          writers[issued % writers.length].write(req, e, vectors);
          lat.push(performance.now() - dueAt);
        })(),
      );
    }
    await new Promise((r) => setImmediate(r));
  }
  await Promise.all(inflight);
  return {
    get_p50_ms: percentile(get, 0.5),
    get_p99_ms: percentile(get, 0.99),
    assemble_p50_ms: percentile(assemble, 0.5),
    assemble_p99_ms: percentile(assemble, 0.99),
    assemble_cpu_us: cpuPerRequestUs,
    open_loop_req_per_s: lat.length / ((performance.now() - start) / 1000),
    open_loop_p50_ms: percentile(lat, 0.5),
    open_loop_p99_ms: percentile(lat, 0.99),
    open_loop_fallbacks: fallbacks,
    refs: refsPer.reduce((s, r) => s + r.refs.length, 0) / refsPer.length,
  };
}

/** Impression and labeled-example JSON records, the examples in join emission order. */
function eventRecords(n: number): { impressions: { key: string; value: string }[]; examples: { key: string; value: string }[] } {
  const t0 = Date.parse('2024-05-01T00:00:00Z');
  const impressions: { key: string; value: string }[] = [];
  const examples: { at: number; key: string; value: string }[] = [];
  for (let i = 0; i < n; i++) {
    const ts = t0 + i * 20;
    const ad = pick(ADS);
    const imp = {
      type: 'impression', impressionId: `i${i}`, requestId: `r${i >> 2}`, ts, userId: `user${pick(10 * USERS)}`, adId: `ad${ad}`, campaignId: `camp${ad % CAMPAIGNS}`,
      bid: 1.2, position: i & 3, pCTR: 0.031, modelVersion: 'ctr@1',
      features: { user_id: 'x', ad_id: `ad${ad}`, campaign_id: `camp${ad % CAMPAIGNS}`, ad_category: `cat${ad % CATEGORIES}`, ctx_hour: 0, ctx_device: 'mobile', ctx_site: 'site3' },
    };
    const value = JSON.stringify(imp);
    impressions.push({ key: imp.impressionId, value });
    const clickTs = rand() < 0.03 ? ts + pick(120_000) : null;
    examples.push({ at: clickTs ?? ts + 1_800_000, key: imp.impressionId, value: JSON.stringify({ ...imp, type: 'example', label: clickTs === null ? 0 : 1, clickTs }) });
  }
  examples.sort((a, b) => a.at - b.at);
  return { impressions, examples };
}

async function main(): Promise<void> {
  const figures: Record<string, number> = { load_avg_1m: loadavg()[0] };
  const prefix = uniqueName('bench_fs');
  const redis = createOnlineStore(`${redisUrl()}?prefix=${prefix}&timeout=1s`);
  // The read budget of the ranking path (PCTR_ONLINE_STORE_TIMEOUT's default).
  const redisServing = createOnlineStore(`${redisUrl()}?prefix=${prefix}&timeout=20ms`);
  const memory = new MemoryOnlineStore();
  const tmp = tempDir('bench-fs');
  try {
    await populate(memory);
    await populate(redis);
    const readRows: string[][] = [];
    for (const [name, store, serving] of [['redis', redis, redisServing], ['memory', memory, memory]] as const) {
      const r = await readBench(store, serving);
      for (const [k, v] of Object.entries(r)) figures[`${name}_${k}`] = v;
      readRows.push([name, fmt(r.refs), fmt(r.get_p50_ms * 1000), fmt(r.get_p99_ms * 1000), fmt(r.assemble_p50_ms * 1000), fmt(r.assemble_p99_ms * 1000), fmt(r.assemble_cpu_us), fmt(r.open_loop_req_per_s), fmt(r.open_loop_p50_ms * 1000), fmt(r.open_loop_p99_ms * 1000), String(r.open_loop_fallbacks)]);
    }
    printTable(
      `Online read of one rank request (${CALLS} sequential calls; then ${RATE} req/s open loop for 3 s); load avg ${loadavg()[0].toFixed(1)} on ${cpus().length} cores`,
      ['store', 'refs', 'get p50 µs', 'get p99 µs', '+assemble p50 µs', '+assemble p99 µs', 'CPU µs/req', `req/s at ${RATE}/s`, 'p50 µs', 'p99 µs', 'fallbacks'],
      readRows,
    );

    const putRows: FeatureRow[] = Array.from({ length: 100_000 }, (_, i) => ({ ref: { entity: 'user_category', key: `put${i}|c` }, values: vector('user_category'), ts: 1 }));
    let t0 = performance.now();
    await redis.put(putRows);
    figures.redis_put_rows_per_s = 100_000 / ((performance.now() - t0) / 1000);
    t0 = performance.now();
    await memory.put(putRows);
    figures.memory_put_rows_per_s = 100_000 / ((performance.now() - t0) / 1000);

    const { impressions, examples } = eventRecords(EVENTS);
    const agg = new Aggregator();
    t0 = performance.now();
    for (let i = 0; i < EVENTS; i++) {
      agg.applyRecord('impression', impressions[i].value);
      agg.applyRecord('example', examples[i].value);
    }
    agg.flushRows();
    figures.aggregator_core_records_per_s = (2 * EVENTS) / ((performance.now() - t0) / 1000);
    const log = await createEventLog({ url: `file:${join(tmp.dir, 'events')}`, partitions: 8, fsync: 'never', fsyncIntervalMs: 200, segmentBytes: 1 << 26, retentionBytes: 0, retentionMs: 0 });
    await log.append(TOPICS.impressions, impressions);
    await log.append(TOPICS.examples, examples);
    for (const [name, store] of [['memory', new MemoryOnlineStore()], ['redis', redis]] as const) {
      const runner = new AggregateRunner({ log, store, group: `bench-${name}`, stateFile: join(tmp.dir, `${name}.state`) });
      t0 = performance.now();
      await runner.start();
      await runner.run({ untilIdle: true });
      figures[`aggregator_file_log_${name}_records_per_s`] = runner.progress().records / ((performance.now() - t0) / 1000);
      await runner.close();
    }
    const offline = new ParquetOfflineStore({ type: 'file', dir: join(tmp.dir, 'offline'), threads: 2 });
    const sink = new OfflineSink({ log, store: offline, dir: offline.dir, maxRows: 100_000 });
    t0 = performance.now();
    await sink.start();
    await sink.run({ untilIdle: true });
    figures.offline_sink_examples_per_s = sink.progress().written / ((performance.now() - t0) / 1000);
    await sink.close();
    t0 = performance.now();
    let read = 0;
    for await (const b of offline.read({ from: 0, to: 8e15 }, servedFeatureSchema(), { batchSize: 8192 })) read += b.n;
    figures.offline_read_rows_per_s = read / ((performance.now() - t0) / 1000);
    await offline.close();
    await log.close();
    printTable('Writes and ingestion', ['path', 'per second'], [
      ['redis put (rows, one packed value each)', fmt(figures.redis_put_rows_per_s)],
      ['memory put (rows)', fmt(figures.memory_put_rows_per_s)],
      ['aggregator state machine (records: impressions + examples)', fmt(figures.aggregator_core_records_per_s)],
      ['aggregator via file log → memory store (records)', fmt(figures.aggregator_file_log_memory_records_per_s)],
      ['aggregator via file log → redis store (records)', fmt(figures.aggregator_file_log_redis_records_per_s)],
      ['offline sink: file log → Parquet (examples)', fmt(figures.offline_sink_examples_per_s)],
      ['offline read: Parquet → RawBatch, 31 served features (rows)', fmt(figures.offline_read_rows_per_s)],
    ]);
  } finally {
    await redis.close();
    await redisServing.close();
    await dropRedisPrefix(prefix);
    tmp.remove();
  }
  if (hasFlag('json')) printJson(figures);
}

await main();
