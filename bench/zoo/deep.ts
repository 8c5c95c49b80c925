/**
 * DCN-v2 rows of the model-zoo benchmark: pctr's `dcn` learner beside PyTorch (bench/peers/
 * torch_dcn.py, the same network, initialization and Adam/SparseAdam updates, 2 threads) on one
 * time-ordered split with the same hashed features (pctr writes its encoded rows as CSR files the
 * peer loads) and hyperparameters; then the PyTorch model exported to ONNX and served by pctr's
 * ONNX scorer (onnxruntime-node) on the same test rows: its AUC must equal PyTorch's, and its
 * score100 is what serving an exported model costs.
 *
 * train_s is wall time: pctr's fit from the raw file (parse, hash, learn; worker threads started
 * inside), PyTorch's training loop on tensors in memory. examples_per_s: training rows per CPU
 * second of the process, all threads. score100_ms: median time to score 100 raw test rows (pctr:
 * predict with encoding, on the model loaded from its artifact as the model holder serves it;
 * PyTorch: forward on the token tensor; ONNX: predictAsync with encoding).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RawBatch } from '../../src/core/index.ts';
import { datasetSchema, readDataset, type RowRange } from '../../src/datasets/index.ts';
import { createLearner, encodeArtifact, evaluateModel, loadModel, OnnxModel, parseOnnxSpec, type DcnLearner } from '../../src/models/index.ts';
import { encodeAll, writeCsr } from '../lib/hashed-csr.ts';
import { measure } from '../lib/measure.ts';
import { runPeer } from '../lib/peers.ts';
import { percentile } from '../lib/report.ts';
import type { ZooRow, ZooSplit } from './fm.ts';

export interface DeepZooRow extends Omit<ZooRow, 'system'> {
  readonly system: 'pctr' | 'pytorch' | 'onnxruntime';
}

/** Hyperparameters both systems take, in pctr's names. */
export interface DeepHyper {
  readonly bits: number;
  readonly embeddingDim: number;
  readonly crossLayers: number;
  readonly crossRank: number;
  readonly hidden: readonly number[];
  readonly batchSize: number;
  readonly lr: number;
  readonly initScale: number;
  readonly epochs: number;
}

/** For the ~1M-row generated file; the small samples take smaller batches and more passes (DEEP_SAMPLE_HYPER). */
export const DEEP_HYPER: DeepHyper = { bits: 20, embeddingDim: 8, crossLayers: 2, crossRank: 16, hidden: [64, 32], batchSize: 512, lr: 0.001, initScale: 0.01, epochs: 1 };
/** Chosen on the samples' training splits: one pass (more overfit the ~8k rows: hashed ids are mostly seen once), small batches. */
export const DEEP_SAMPLE_HYPER: Partial<DeepHyper> = { batchSize: 64, epochs: 1, lr: 0.005 };

export interface DeepZooOptions {
  readonly hyper?: Partial<DeepHyper>;
  readonly threads?: number;
  readonly peerThreads?: number;
  readonly workDir?: string;
  readonly scoreRepeats?: number;
  readonly note?: (line: string) => void;
}

interface PeerResult {
  auc: number;
  logloss: number;
  train_s: number;
  cpu_s: number;
  examples_per_s: number;
  score100_ms: number;
  score100_p99_ms: number;
}

async function firstRows(source: AsyncIterable<RawBatch>, n: number): Promise<RawBatch> {
  for await (const b of source) {
    const k = Math.min(n, b.n);
    return { n: k, schema: b.schema, columns: b.columns.map((c) => c.slice(0, k)), labels: b.labels?.slice(0, k) };
  }
  throw new Error('the test split has no rows');
}

/** Median and p99 milliseconds of one scoring call on `batch` (after a warm-up). */
async function scoreTimes(score: (out: Float32Array) => unknown, n: number, repeats: number): Promise<{ p50: number; p99: number }> {
  const out = new Float32Array(n);
  for (let i = 0; i < 200; i++) await score(out);
  const times = new Float64Array(repeats);
  for (let i = 0; i < repeats; i++) {
    const t = performance.now();
    await score(out);
    times[i] = performance.now() - t;
  }
  return { p50: percentile(times, 0.5), p99: percentile(times, 0.99) };
}

function peerArgs(h: DeepHyper, threads: number): string[] {
  return [
    '--embedding-dim', String(h.embeddingDim), '--cross-layers', String(h.crossLayers), '--cross-rank', String(h.crossRank),
    '--hidden', h.hidden.join(','), '--batch-size', String(h.batchSize), '--lr', String(h.lr), '--init-scale', String(h.initScale),
    '--epochs', String(h.epochs), '--threads', String(threads),
  ];
}

export async function runDeepZoo(split: ZooSplit, opts: DeepZooOptions = {}): Promise<DeepZooRow[]> {
  const note = opts.note ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const workDir = opts.workDir ?? join(tmpdir(), 'pctr-bench-zoo-deep');
  mkdirSync(workDir, { recursive: true });
  const h: DeepHyper = { ...DEEP_HYPER, ...opts.hyper };
  const schema = datasetSchema(split.kind);
  const read = (rows: RowRange) => readDataset(split.kind, split.path, { rows });
  const trainRows = split.train.to - split.train.from;
  const candidates = await firstRows(read(split.test), 100);
  const repeats = opts.scoreRepeats ?? 2000;

  note(`${split.dataset} dcn-v2: pctr fit …`);
  const params = { ...h, hidden: [...h.hidden], seed: 1, ...(opts.threads ? { threads: opts.threads } : {}) };
  const learner = createLearner('dcn', params, schema) as DcnLearner;
  const fit = await measure(() => learner.fit(() => read(split.train), { source: split.path }));
  const test = await evaluateModel(learner, read(split.test));
  // Scored as served: the model loaded from its artifact (weights only, without Adam's state beside them).
  const served = loadModel(encodeArtifact(learner.toArtifact()));
  const times = await scoreTimes((out) => served.predict(candidates, out), candidates.n, repeats);
  const rows: DeepZooRow[] = [
    { dataset: split.dataset, model: 'dcn-v2', system: 'pctr', auc: test.auc, logloss: test.logloss, train_s: fit.wall, score100_ms: times.p50, score100_p99_ms: times.p99, examples_per_s: (trainRows * h.epochs) / fit.cpu },
  ];

  note(`${split.dataset} dcn-v2: PyTorch …`);
  const files = [join(workDir, `${split.dataset}-dcn-train.csr`), join(workDir, `${split.dataset}-dcn-test.csr`)];
  await writeCsr(files[0], await encodeAll(learner.encoder, read(split.train)), h.bits);
  await writeCsr(files[1], await encodeAll(learner.encoder, read(split.test)), h.bits);
  const onnxPath = join(workDir, `${split.dataset}-dcn.onnx`);
  const peer = await runPeer<PeerResult>('torch_dcn.py', ['train', ...files, ...peerArgs(h, opts.peerThreads ?? 2), '--onnx-out', onnxPath]);
  rows.push({ dataset: split.dataset, model: 'dcn-v2', system: 'pytorch', auc: peer.auc, logloss: peer.logloss, train_s: peer.train_s, score100_ms: peer.score100_ms, score100_p99_ms: peer.score100_p99_ms, examples_per_s: peer.examples_per_s });

  note(`${split.dataset} dcn-v2: the PyTorch model through pctr's ONNX scorer …`);
  const fields = schema.fields.map((f) => f.name);
  const spec = parseOnnxSpec({
    format: 'pctr-onnx-spec/1',
    schema: { fields: schema.fields.map((f) => ({ name: f.name, kind: f.kind })) },
    encoding: learner.encoder.spec,
    inputs: [{ name: 'ids', kind: 'tokens', fields }],
    output: { name: 'prob', kind: 'probability' },
  });
  writeFileSync(join(workDir, `${split.dataset}-dcn.spec.json`), JSON.stringify(spec));
  const onnx = new OnnxModel(spec, new Uint8Array(await readFile(onnxPath)));
  const viaOnnx = await evaluateModel(onnx, read(split.test));
  const onnxTimes = await scoreTimes((out) => onnx.predictAsync(candidates, out), candidates.n, repeats);
  await onnx.close();
  rows.push({ dataset: split.dataset, model: 'dcn-v2 (pytorch → onnx)', system: 'onnxruntime', auc: viaOnnx.auc, logloss: viaOnnx.logloss, train_s: NaN, score100_ms: onnxTimes.p50, score100_p99_ms: onnxTimes.p99, examples_per_s: NaN });
  return rows;
}
