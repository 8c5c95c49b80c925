/**
 * End-to-end, embedded (issue 4, and issue 5's PyTorch model in the loop): `pctr start --sim` as a
 * user runs it, in a child process on a fresh data dir. Before it starts, `pctr models import-onnx`
 * makes a DeepFM trained and exported by PyTorch (test/fixtures/onnx-sim, trained on the simulator's
 * market by bench/zoo/sim-onnx-fixture.ts) the champion. The simulator then sends 300k impressions'
 * worth of rank requests and clicks through the HTTP API on its simulated clock; the join labels
 * them, the continuous learner and the batch pipeline learn from the joined stream, and the gate
 * promotes what beats the champion. At the end, on the last 50k impressions, the served pCTR's AUC
 * must be within 0.02 of the oracle's and its calibration (mean pCTR ÷ CTR) within [0.9, 1.1]; the
 * ONNX model must have served impressions with sane pCTRs and been replaced by a model trained on
 * the joined stream.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../src/app/index.ts';
import { RawBatchBuilder, TOPICS, loadConfig, silentLogger } from '../src/core/index.ts';
import { createEventLog } from '../src/events/index.ts';
import { OnnxModel, parseOnnxSpec } from '../src/models/index.ts';
import { createRegistry } from '../src/registry/index.ts';
import { spawnPctr, type ManagedProcess } from './helpers/processes.ts';
import { tempDir } from './helpers/services.ts';

const FIXTURE = fileURLToPath(new URL('./fixtures/onnx-sim/', import.meta.url));
const IMPRESSIONS = 300_000;
/**
 * Simulated start of the run: the market's CTR follows an hour-of-day curve, so a run started at the
 * wall clock's hour learns a different stream at different times of day (calibration 0.96–1.19).
 */
const SIM_START = '2026-01-05T02:00:00Z';
const MODEL = 'ctr';

const tmp = tempDir('e2e-embedded');
/** The `pctr` process of the test, stopped whatever state the test ends in. */
let running: ManagedProcess | null = null;
afterAll(async () => {
  await running?.stop({ signal: 'SIGINT', graceMs: 10_000 });
  tmp.remove();
});

/** Impressions and mean pCTR per served model version, read back from the impressions topic. */
async function servedByVersion(dataDir: string): Promise<Map<string, { n: number; sum: number; min: number; max: number }>> {
  const log = await createEventLog(loadConfig({ env: { PCTR_DATA_DIR: dataDir } }).events, { logger: silentLogger });
  const consumer = log.subscribe(TOPICS.impressions, 'e2e-embedded-check');
  const out = new Map<string, { n: number; sum: number; min: number; max: number }>();
  try {
    for (;;) {
      const batch = await consumer.poll(50_000, 100);
      if (batch.records.length === 0) break;
      for (const r of batch.records) {
        const e = JSON.parse(r.value) as { modelVersion: string; pCTR: number };
        const s = out.get(e.modelVersion) ?? { n: 0, sum: 0, min: Infinity, max: -Infinity };
        s.n++;
        s.sum += e.pCTR;
        s.min = Math.min(s.min, e.pCTR);
        s.max = Math.max(s.max, e.pCTR);
        out.set(e.modelVersion, s);
      }
    }
  } finally {
    await consumer.close();
    await log.close();
  }
  return out;
}

describe('the initial champion, a DeepFM trained and exported by PyTorch', () => {
  it("scores the simulator's served features as PyTorch did (max abs diff ≤ 1e-5), with CTR-like pCTRs", async () => {
    const read = (name: string): unknown => JSON.parse(readFileSync(join(FIXTURE, name), 'utf8'));
    const spec = parseOnnxSpec(read('spec.json'));
    const rows = read('rows.json') as Record<string, string | number>[];
    const torch = (read('pytorch-scores.json') as { scores: number[] }).scores;
    const model = new OnnxModel(spec, new Uint8Array(readFileSync(join(FIXTURE, 'deepfm.onnx'))));
    const builder = new RawBatchBuilder(spec.schema, rows.length);
    for (const r of rows) builder.add(r);
    const out = new Float32Array(rows.length);
    await model.predictAsync(builder.build(), out);
    await model.close();
    expect(Math.max(...out.map((p, i) => Math.abs(p - torch[i])))).toBeLessThanOrEqual(1e-5);
    const mean = out.reduce((a, b) => a + b, 0) / out.length;
    expect(mean).toBeGreaterThan(0.005);
    expect(mean).toBeLessThan(0.2);
    expect(Math.max(...out) - Math.min(...out)).toBeGreaterThan(0.01);
  });
});

describe('pctr start --sim: the whole loop, embedded', () => {
  // The loop is a stochastic system (request timing decides which snapshot serves when), so its
  // end figures vary from run to run (calibration 0.96–1.11 over nine runs): one retry, on a fresh
  // data dir, keeps a rare unlucky run from failing the suite while two misses in a row still do.
  let attempt = 0;
  it(
    `learns from ${IMPRESSIONS / 1000}k simulated impressions through the HTTP API: the PyTorch champion is replaced and the served pCTR comes within 0.02 AUC of the oracle`,
    // About 4 minutes on an idle 2-core machine; far longer when other work shares its cores.
    { timeout: 900_000, retry: 1 },
    async () => {
      attempt++;
      const dataDir = join(tmp.dir, `data-${attempt}`);
      const env = { PCTR_DATA_DIR: dataDir, PCTR_LOG_LEVEL: 'warn' };

      const imported = (running = spawnPctr('import-onnx', ['models', 'import-onnx', join(FIXTURE, 'deepfm.onnx'), '--spec', join(FIXTURE, 'spec.json'), '--name', MODEL, '--promote', '--json'], env));
      const importExit = await imported.exited;
      expect(importExit.code, imported.output()).toBe(0);
      expect(JSON.parse(imported.output().slice(imported.output().indexOf('{')))).toMatchObject({ name: MODEL, version: 1, kind: 'onnx' });

      const summaryFile = join(tmp.dir, `summary-${attempt}.json`);
      const started = performance.now();
      const run = (running = spawnPctr('start', ['start', '--sim', '--speed', 'max', '--start', SIM_START, '--impressions', String(IMPRESSIONS), '--port', '0', '--summary-json', summaryFile], env));
      const exit = await run.exited;
      const wall = (performance.now() - started) / 1000;
      expect(exit.code, run.output()).toBe(0);
      const s = JSON.parse(readFileSync(summaryFile, 'utf8')) as RunSummary;

      const served = await servedByVersion(dataDir);
      const onnx = served.get(`${MODEL}@1`);
      const { registry: rc } = loadConfig({ env: { PCTR_DATA_DIR: dataDir } });
      const registry = await createRegistry({ url: rc.url, artifacts: rc.artifacts, logger: silentLogger });
      // The version serving at the end (a pipeline run finishing during shutdown may still move @champion after it).
      const servedVersion = Number(/@(\d+)$/.exec(s.model_version ?? '')?.[1] ?? NaN);
      expect(Number.isInteger(servedVersion), `served model ${s.model_version}`).toBe(true);
      const final = await registry.get(MODEL, servedVersion);
      const first = await registry.get(MODEL, 1);
      await registry.close();

      const gap = Math.abs(s.served_auc! - s.oracle_auc!);
      console.log(
        [
          `e2e-embedded: ${s.impressions} impressions, ${s.clicks} clicks in ${wall.toFixed(1)} s wall (${s.requests_per_sec.toFixed(0)} req/s, p99 ${s.latency_p99_ms?.toFixed(1)} ms, ${s.failures} failures)`,
          `  last ${s.window_impressions}: AUC served ${s.served_auc?.toFixed(4)} vs oracle ${s.oracle_auc?.toFixed(4)} (gap ${gap.toFixed(4)}), ` +
            `logloss ${s.served_logloss?.toFixed(4)} vs ${s.oracle_logloss?.toFixed(4)}, calibration ${s.calibration?.toFixed(4)}, CTR ${s.window_ctr?.toFixed(4)}`,
          `  ONNX champion v1 (${first.kind}) served ${onnx?.n ?? 0} impressions, mean pCTR ${onnx ? (onnx.sum / onnx.n).toFixed(4) : '-'} [${onnx?.min.toFixed(4)}, ${onnx?.max.toFixed(4)}]`,
          `  serving ${s.model_version} (${final.kind}${final.params.continuous ? ', continuous learner' : ''}); ${s.versions_promoted} promoted, ${s.versions_registered} registered; ` +
            `learner ${s.learner?.published} published of ${s.learner?.decisions} decisions; pipeline ${s.pipeline?.promoted} promoted of ${s.pipeline?.runs} runs`,
        ].join('\n'),
      );

      expect(s.impressions).toBeGreaterThanOrEqual(IMPRESSIONS);
      expect(s.failures).toBe(0);
      expect(s.window_impressions).toBe(50_000);
      // The PyTorch-exported model served the first impressions, through the gateway, with sane pCTRs…
      expect(first.kind).toBe('onnx');
      expect(onnx?.n ?? 0).toBeGreaterThan(1_000);
      expect(onnx!.min).toBeGreaterThan(0);
      expect(onnx!.max).toBeLessThan(1);
      expect(onnx!.sum / onnx!.n).toBeGreaterThan(0.01);
      expect(onnx!.sum / onnx!.n).toBeLessThan(0.2);
      // …and was replaced by a version trained from the joined stream, which serves at the end.
      expect(s.versions_promoted).toBeGreaterThanOrEqual(1);
      expect(s.served_model_registered).toBe(true);
      expect(final.version).toBeGreaterThan(1);
      expect(final.kind).not.toBe('onnx');
      expect(final.dataRange?.rows ?? 0).toBeGreaterThan(1_000);
      // The acceptance figures, on the last 50k impressions.
      expect(gap).toBeLessThanOrEqual(0.02);
      expect(s.calibration).toBeGreaterThanOrEqual(0.9);
      expect(s.calibration).toBeLessThanOrEqual(1.1);
    },
  );
});
