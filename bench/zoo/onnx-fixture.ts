/**
 * Regenerates the ONNX scorer's test fixture (test/fixtures/onnx/):
 *   node --import tsx bench/zoo/onnx-fixture.ts
 * It writes spec.json (the feature spec: the gateway's request features and two aggregates),
 * rows.json (64 seeded rows of served features, some values missing), inputs.json (pctr's encoded
 * inputs of those rows, as the spec feeds them), then runs bench/peers/export_onnx.py, which exports
 * a small PyTorch DeepFM to deepfm.onnx and writes PyTorch's scores of the same inputs. The test
 * (src/models/onnx/onnx-model.test.ts) checks pctr feeds the same inputs and scores within 1e-5.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RawBatchBuilder, REQUEST_FEATURES } from '../../src/core/index.ts';
import { FeedBuilder, parseOnnxSpec } from '../../src/models/index.ts';
import { seededRandom } from '../../test/helpers/synthetic-ctr.ts';
import { runPeer } from '../lib/peers.ts';

const DIR = fileURLToPath(new URL('../../test/fixtures/onnx/', import.meta.url));
const ROWS = 64;
const NUMERIC = ['ad_ctr_24h', 'user_imps_24h'];

const spec = parseOnnxSpec({
  format: 'pctr-onnx-spec/1',
  schema: { fields: [...REQUEST_FEATURES.map((f) => ({ name: f.name, kind: f.kind })), ...NUMERIC.map((name) => ({ name, kind: 'numeric' }))] },
  encoding: { bits: 12 },
  inputs: [
    { name: 'ids', kind: 'tokens', fields: REQUEST_FEATURES.map((f) => f.name) },
    { name: 'values', kind: 'numeric', fields: NUMERIC, transform: 'log1p', missing: 0 },
  ],
  output: { name: 'prob', kind: 'probability' },
});

const rand = seededRandom(2026);
const pick = (prefix: string, n: number): string => `${prefix}${Math.floor(rand() * n)}`;
const rows = Array.from({ length: ROWS }, (_, i) => {
  const features: Record<string, string | number> = {
    user_id: pick('u', 40),
    ad_id: pick('ad', 30),
    campaign_id: pick('c', 8),
    ad_category: pick('cat', 5),
    ctx_hour: String(Math.floor(rand() * 24)),
    ctx_device: ['mobile', 'desktop', 'tablet'][Math.floor(rand() * 3)],
    ctx_site: pick('site', 12),
    ad_ctr_24h: Math.round(rand() * 1000) / 10_000,
    user_imps_24h: Math.floor(rand() * rand() * 500),
  };
  // Missing values: a categorical (hash 0) every 7th row, a numeric (NaN) every 5th.
  if (i % 7 === 3) delete features.ctx_site;
  if (i % 5 === 2) delete features.user_imps_24h;
  return features;
});

const builder = new RawBatchBuilder(spec.schema, ROWS);
for (const r of rows) builder.add(r);
const feeds = new FeedBuilder(spec).build(builder.build());
const matrix = (data: ArrayLike<number | bigint>, width: number): number[][] =>
  Array.from({ length: ROWS }, (_, r) => Array.from({ length: width }, (_, j) => Number(data[r * width + j])));

mkdirSync(DIR, { recursive: true });
writeFileSync(`${DIR}spec.json`, `${JSON.stringify(spec, null, 2)}\n`);
writeFileSync(`${DIR}rows.json`, `${JSON.stringify(rows)}\n`);
writeFileSync(
  `${DIR}inputs.json`,
  `${JSON.stringify({ bits: spec.encoding.bits, ids: matrix(feeds[0].data, feeds[0].dims[1]), values: matrix(feeds[1].data, feeds[1].dims[1]) })}\n`,
);
const result = await runPeer<{ onnx: string; rows: number; bytes: number }>('export_onnx.py', [`${DIR}inputs.json`, '--out', DIR]);
process.stdout.write(`wrote ${DIR}: ${result.rows} rows, deepfm.onnx ${result.bytes} bytes\n`);
