/**
 * Regenerates the initial champion of the embedded end-to-end test (test/fixtures/onnx-sim/):
 *   node --import tsx bench/zoo/sim-onnx-fixture.ts
 * It draws impressions from the market of `pctr start --sim` (same seed, users, ads), each serving a
 * random candidate of the request, labeled by whether the user clicked within the attribution window;
 * writes spec.json (the request-level features as pctr's hashed tokens) and rows.json (the first 64
 * rows' served features); then bench/peers/train_sim_deepfm.py trains a small DeepFM on pctr's encoded
 * inputs in PyTorch, exports deepfm.onnx, and writes PyTorch's scores of those 64 rows.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SIM_DEFAULTS } from '../../src/app/index.ts';
import { RawBatchBuilder, REQUEST_FEATURES, type Features } from '../../src/core/index.ts';
import { FeedBuilder, parseOnnxSpec } from '../../src/models/index.ts';
import { AdMarket, requestFeatures } from '../../src/sim/index.ts';
import { runPeer } from '../lib/peers.ts';

const DIR = fileURLToPath(new URL('../../test/fixtures/onnx-sim/', import.meta.url));
const IMPRESSIONS = 200_000;
const SCORED_ROWS = 64;
const WINDOW_MS = 30 * 60_000;

const spec = parseOnnxSpec({
  format: 'pctr-onnx-spec/1',
  schema: { fields: REQUEST_FEATURES.map((f) => ({ name: f.name, kind: f.kind })) },
  encoding: { bits: 12 },
  inputs: [{ name: 'ids', kind: 'tokens', fields: REQUEST_FEATURES.map((f) => f.name) }],
  output: { name: 'prob', kind: 'probability' },
});

const market = new AdMarket({ ...SIM_DEFAULTS.market, seed: SIM_DEFAULTS.seed, users: SIM_DEFAULTS.users, ads: SIM_DEFAULTS.ads, windowMs: WINDOW_MS });
// A random pick among the candidates, never a model's: the data of a deployment without one yet.
let pick = 12345;
const rows: Features[] = [];
const labels: number[] = [];
let now = Date.UTC(2026, 0, 5);
for (let i = 0; i < IMPRESSIONS; i++) {
  now += 1000 / SIM_DEFAULTS.requestRate;
  market.advance(now);
  const req = market.nextRequest(now);
  pick = (Math.imul(pick, 1103515245) + 12345) >>> 0;
  const cand = req.candidates[pick % req.candidates.length];
  const out = market.outcome(req, cand.adId, 0, now);
  rows.push(requestFeatures(req.userId, cand, req.context));
  labels.push(out.click !== null && out.click.delayMs <= WINDOW_MS ? 1 : 0);
}
const builder = new RawBatchBuilder(spec.schema, rows.length);
for (const r of rows) builder.add(r);
const ids = new FeedBuilder(spec).build(builder.build())[0];
const width = ids.dims[1];
const matrix = Array.from({ length: rows.length }, (_, r) => Array.from({ length: width }, (_, j) => Number(ids.data[r * width + j])));

mkdirSync(DIR, { recursive: true });
const inputs = join(tmpdir(), `pctr-sim-onnx-${process.pid}.json`);
writeFileSync(inputs, JSON.stringify({ bits: spec.encoding.bits, ids: matrix, labels, score_rows: SCORED_ROWS }));
try {
  writeFileSync(`${DIR}spec.json`, `${JSON.stringify(spec, null, 2)}\n`);
  writeFileSync(`${DIR}rows.json`, `${JSON.stringify(rows.slice(0, SCORED_ROWS))}\n`);
  const result = await runPeer<{ rows: number; bytes: number; train_logloss: number; mean_prob: number; ctr: number }>('train_sim_deepfm.py', [inputs, '--out', DIR]);
  process.stdout.write(
    `wrote ${DIR}: trained on ${result.rows} impressions (CTR ${result.ctr.toFixed(4)}, mean pCTR ${result.mean_prob.toFixed(4)}, ` +
      `train logloss ${result.train_logloss.toFixed(4)}), deepfm.onnx ${result.bytes} bytes\n`,
  );
} finally {
  rmSync(inputs, { force: true });
}
