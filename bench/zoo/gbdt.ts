/**
 * GBDT and GBDT+LR rows of the model-zoo benchmark: pctr's learners beside xgboost `hist`
 * (bench/peers/xgb_gbdt.py, grow_policy=lossguide, 2 threads) on one time-ordered split, with the
 * same hyperparameters (rounds, eta, max leaves, max depth, max bin, lambda, gamma, min child
 * weight, early stopping rounds on the same validation rows) and the same features: pctr writes
 * the matrices its GBDT trains, stops early and predicts on (numeric columns, each categorical
 * field's count and out-of-fold click rate) and xgboost reads them. GBDT+LR's peer is xgboost's
 * leaves one-hot (plus pctr's hashed raw fields) into sklearn's LogisticRegression (solver 'saga', as
 * the linear baseline's: liblinear did not finish in 15 min on the generated file), C tuned on the
 * last ninth of its rows, trees and LR on the same rows as pctr's.
 * `runGbdtZoo(split)` returns one row per model and system; bench/zoo.ts prints them with the other
 * models. Run directly (`node --import tsx bench/zoo/gbdt.ts [--json] [--rows N] [--quick]`) it
 * benchmarks the Criteo and Avazu samples and a generated Criteo-shaped file on its own.
 *
 * train_s is wall time from rows in memory to the trained model on both sides: pctr's fit from
 * RawBatches (categorical statistics, binning, boosting), xgboost's DMatrix construction from numpy
 * and training (the features come precomputed). train_cpu_s adds up CPU time over all threads.
 * score100_ms is the median time to score 100 raw test rows (pctr: predict on a RawBatch,
 * categorical lookups included; xgboost: inplace_predict on the ready feature rows).
 */
import { mkdirSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RawBatch } from '../../src/core/index.ts';
import { countRows, datasetSchema, readDataset, split as splitFile, type RowRange } from '../../src/datasets/index.ts';
import { FeatureEncoder, createLearner, evaluateModel, gbdtTrainingMatrices, type EncodingSpec, type GbdtLearner, type GbdtLrLearner } from '../../src/models/index.ts';
import { encodeAll, writeCsr } from '../lib/hashed-csr.ts';
import { measure } from '../lib/measure.ts';
import { runPeer } from '../lib/peers.ts';
import { flag, fmt, hasFlag, percentile, printJson, printTable } from '../lib/report.ts';
import { generatedCriteo, type ZooSplit } from './fm.ts';
import { LARGE_C } from './linear.ts';

export type GbdtModel = 'gbdt' | 'gbdt-lr';

export interface GbdtZooRow {
  readonly dataset: string;
  readonly model: GbdtModel;
  readonly system: 'pctr' | 'xgboost' | 'xgboost+sklearn';
  readonly auc: number;
  readonly logloss: number;
  readonly train_s: number;
  readonly score100_ms: number;
  /** Training rows per CPU second (all threads). */
  readonly examples_per_s: number;
  readonly train_cpu_s: number;
  /** Trees kept after early stopping. */
  readonly trees: number;
  readonly score100_p99_ms?: number;
}

/** Hyperparameters both systems take, in pctr's names (the peer's flags are derived from them). */
export interface GbdtHyper {
  readonly trees: number;
  readonly learningRate: number;
  readonly maxLeaves: number;
  readonly maxDepth: number;
  readonly maxBin: number;
  readonly lambda: number;
  readonly gamma: number;
  readonly minChildWeight: number;
  readonly earlyStoppingRounds: number;
}

/** Seeds small splits (the real samples) are averaged over. */
export const SAMPLE_SEEDS = 5;
export const SMALL_SPLIT_ROWS = 100_000;

export const GBDT_HYPER: GbdtHyper = { trees: 300, learningRate: 0.1, maxLeaves: 31, maxDepth: 0, maxBin: 255, lambda: 1, gamma: 0, minChildWeight: 1, earlyStoppingRounds: 20 };

export interface GbdtZooOptions {
  readonly models?: readonly GbdtModel[];
  readonly hyper?: Partial<GbdtHyper>;
  /** pctr's histogram threads (default: the learner's default). */
  readonly threads?: number;
  readonly peerThreads?: number;
  readonly workDir?: string;
  /** predict calls timed for score100 (default 2000). */
  readonly scoreRepeats?: number;
  /** Seeds to average over (default: SAMPLE_SEEDS below SMALL_SPLIT_ROWS training rows, else 1). */
  readonly seeds?: number;
  readonly note?: (line: string) => void;
}

function peerArgs(h: GbdtHyper, threads: number): string[] {
  return [
    '--trees', String(h.trees), '--eta', String(h.learningRate), '--max-leaves', String(h.maxLeaves), '--max-depth', String(h.maxDepth),
    '--max-bin', String(h.maxBin), '--reg-lambda', String(h.lambda), '--gamma', String(h.gamma), '--min-child-weight', String(h.minChildWeight),
    '--early-stopping', String(h.earlyStoppingRounds), '--threads', String(threads),
  ];
}

interface PeerResult {
  auc: number;
  logloss: number;
  train_s: number;
  train_cpu_s: number;
  trees: number;
  score100_ms: number;
}

async function load(split: ZooSplit, rows: RowRange): Promise<RawBatch[]> {
  const out: RawBatch[] = [];
  for await (const b of readDataset(split.kind, split.path, { rows, batchSize: 65_536 })) out.push(b);
  return out;
}

const sourceOf = (batches: readonly RawBatch[]) => async function* (): AsyncGenerator<RawBatch> {
  yield* batches;
};

/** Rows [from, to) of consecutive batches, as views. */
function slice(batches: readonly RawBatch[], from: number, to: number): RawBatch[] {
  const out: RawBatch[] = [];
  let at = 0;
  for (const b of batches) {
    const lo = Math.max(from, at) - at;
    const hi = Math.min(to, at + b.n) - at;
    if (hi > lo) out.push({ n: hi - lo, schema: b.schema, columns: b.columns.map((c) => c.subarray(lo, hi)), labels: b.labels?.subarray(lo, hi) });
    at += b.n;
  }
  return out;
}

/** "PCTRMAT1", u32 rows, u32 cols, f32 columns, u8 labels (bench/peers/xgb_gbdt.py reads it). */
async function writeMatrix(path: string, m: { n: number; columns: readonly Float32Array[]; labels: Uint8Array }): Promise<void> {
  const head = Buffer.alloc(16);
  head.write('PCTRMAT1', 0, 'latin1');
  head.writeUInt32LE(m.n, 8);
  head.writeUInt32LE(m.columns.length, 12);
  const fh = await open(path, 'w');
  try {
    for (const part of [head, ...m.columns, m.labels]) await fh.write(new Uint8Array(part.buffer, part.byteOffset, part.byteLength));
  } finally {
    await fh.close();
  }
}

/** The features a fitted GBDT predicts from, column-major, for every row of `batches`. */
function servedMatrix(model: GbdtLearner, batches: readonly RawBatch[], width: number) {
  const n = batches.reduce((s, b) => s + b.n, 0);
  const columns = Array.from({ length: width }, () => new Float32Array(n));
  const labels = new Uint8Array(n);
  let at = 0;
  for (const b of batches) {
    const x = model.features(b);
    for (let r = 0; r < b.n; r++) for (let f = 0; f < width; f++) columns[f][at + r] = x[r * width + f];
    labels.set(b.labels!, at);
    at += b.n;
  }
  return { n, columns, labels };
}

function scoreTimes(model: { predict(b: RawBatch, out: Float32Array): void }, batch: RawBatch, repeats: number): { p50: number; p99: number } {
  const out = new Float32Array(batch.n);
  for (let i = 0; i < 200; i++) model.predict(batch, out);
  const times = new Float64Array(repeats);
  for (let i = 0; i < repeats; i++) {
    const t = performance.now();
    model.predict(batch, out);
    times[i] = performance.now() - t;
  }
  return { p50: percentile(times, 0.5), p99: percentile(times, 0.99) };
}

/**
 * One split, averaged over `opts.seeds` seeds (default: SAMPLE_SEEDS for splits under
 * SMALL_SPLIT_ROWS training rows, else 1): a seed sets the folds of the out-of-fold click rates, so
 * on the small samples it moves both systems' AUC by up to ±0.01 (both read the same features, so
 * each seed is a paired comparison). Every figure of a row is the mean over seeds.
 */
export async function runGbdtZoo(split: ZooSplit, opts: GbdtZooOptions = {}): Promise<GbdtZooRow[]> {
  const seeds = opts.seeds ?? (split.train.to - split.train.from < SMALL_SPLIT_ROWS ? SAMPLE_SEEDS : 1);
  const runs: GbdtZooRow[][] = [];
  for (let seed = 1; seed <= seeds; seed++) runs.push(await runOnce(split, seed, opts));
  return runs[0].map((row, i) => {
    const mean = (k: keyof GbdtZooRow) => runs.reduce((s, r) => s + (r[i][k] as number), 0) / runs.length;
    const out: Record<string, unknown> = { ...row };
    for (const [k, v] of Object.entries(row)) if (typeof v === 'number') out[k] = mean(k as keyof GbdtZooRow);
    return out as unknown as GbdtZooRow;
  });
}

async function runOnce(split: ZooSplit, seed: number, opts: GbdtZooOptions): Promise<GbdtZooRow[]> {
  const note = opts.note ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const workDir = opts.workDir ?? join(tmpdir(), 'pctr-bench-zoo-gbdt');
  mkdirSync(workDir, { recursive: true });
  const h: GbdtHyper = { ...GBDT_HYPER, ...opts.hyper };
  const params = { ...h, seed, ...(opts.threads ? { threads: opts.threads } : {}) };
  const schema = datasetSchema(split.kind);
  const train = await load(split, split.train);
  const test = await load(split, split.test);
  const trainRows = train.reduce((s, b) => s + b.n, 0);
  const candidates = slice(test, 0, 100)[0];
  const file = (name: string) => join(workDir, `${split.dataset}-${name}`);
  const peer = (args: string[]) => runPeer<PeerResult>('xgb_gbdt.py', [...args, ...peerArgs(h, opts.peerThreads ?? 2)]);
  const rows: GbdtZooRow[] = [];
  const pctrRow = async (model: GbdtModel, learner: GbdtLearner | GbdtLrLearner, fit: { wall: number; cpu: number }, trees: number): Promise<GbdtZooRow> => {
    const m = await evaluateModel(learner, sourceOf(test)());
    const times = scoreTimes(learner, candidates, opts.scoreRepeats ?? 2000);
    return { dataset: split.dataset, model, system: 'pctr', auc: m.auc, logloss: m.logloss, train_s: fit.wall, train_cpu_s: fit.cpu, examples_per_s: trainRows / fit.cpu, trees, score100_ms: times.p50, score100_p99_ms: times.p99 };
  };
  const peerRow = (model: GbdtModel, system: GbdtZooRow['system'], r: PeerResult): GbdtZooRow => ({
    dataset: split.dataset, model, system, auc: r.auc, logloss: r.logloss, train_s: r.train_s, train_cpu_s: r.train_cpu_s, examples_per_s: trainRows / r.train_cpu_s, trees: r.trees, score100_ms: r.score100_ms,
  });

  for (const model of opts.models ?? (['gbdt', 'gbdt-lr'] as const)) {
    note(`${split.dataset} ${model} (seed ${seed}): pctr fit …`);
    if (model === 'gbdt') {
      const learner = createLearner('gbdt', params, schema) as GbdtLearner;
      const fit = await measure(() => learner.fit(sourceOf(train), { source: split.path }));
      rows.push(await pctrRow(model, learner, fit, learner.trees));
      note(`${split.dataset} gbdt: xgboost …`);
      const matrices = await gbdtTrainingMatrices(schema, sourceOf(train), learner.params);
      await writeMatrix(file('gbdt-train.mat'), matrices.train);
      await writeMatrix(file('gbdt-valid.mat'), matrices.valid ?? { n: 0, columns: matrices.names.map(() => new Float32Array(0)), labels: new Uint8Array(0) });
      await writeMatrix(file('gbdt-test.mat'), servedMatrix(learner, test, matrices.names.length));
      rows.push(peerRow(model, 'xgboost', await peer(['gbdt', file('gbdt-train.mat'), file('gbdt-valid.mat'), file('gbdt-test.mat')])));
      continue;
    }
    const learner = createLearner('gbdt-lr', params, schema) as GbdtLrLearner;
    const fit = await measure(() => learner.fit(sourceOf(train), { source: split.path }));
    rows.push(await pctrRow(model, learner, fit, learner.trees));
    note(`${split.dataset} gbdt-lr: xgboost leaves + sklearn LR …`);
    // The same row split as GbdtLrLearner.fit: trees on the first treeFraction, the linear model on the rest.
    const cut = Math.max(1, Math.floor(trainRows * learner.params.treeFraction));
    const treeRows = slice(train, 0, cut);
    const linearRows = cut < trainRows ? slice(train, cut, trainRows) : train;
    const trees = learner.treeModel;
    const matrices = await gbdtTrainingMatrices(schema, sourceOf(treeRows), trees.params);
    const width = matrices.names.length;
    await writeMatrix(file('gbdtlr-train.mat'), matrices.train);
    await writeMatrix(file('gbdtlr-valid.mat'), matrices.valid ?? { n: 0, columns: matrices.names.map(() => new Float32Array(0)), labels: new Uint8Array(0) });
    await writeMatrix(file('gbdtlr-lr.mat'), servedMatrix(trees, linearRows, width));
    await writeMatrix(file('gbdtlr-test.mat'), servedMatrix(trees, test, width));
    const args = ['gbdt-lr', file('gbdtlr-train.mat'), file('gbdtlr-valid.mat'), file('gbdtlr-lr.mat'), file('gbdtlr-test.mat')];
    // As for the linear baseline (zoo/linear.ts): above SMALL_SPLIT_ROWS one saga fit with the C its
    // grid chose on the generated file; the grid's five extra fits would add many minutes there.
    if (trainRows >= SMALL_SPLIT_ROWS) args.push('--lr-c', String(LARGE_C));
    if (learner.params.rawFeatures) {
      const spec = (learner.toArtifact().header.encoding as { lr: EncodingSpec }).lr;
      const encoder = new FeatureEncoder(schema, spec);
      await writeCsr(file('gbdtlr-lr.csr'), await encodeAll(encoder, sourceOf(linearRows)()), spec.bits);
      await writeCsr(file('gbdtlr-test.csr'), await encodeAll(encoder, sourceOf(test)()), spec.bits);
      args.push('--lr-csr', file('gbdtlr-lr.csr'), '--test-csr', file('gbdtlr-test.csr'));
    }
    rows.push(peerRow(model, 'xgboost+sklearn', await peer(args)));
  }
  return rows;
}

async function main(): Promise<void> {
  const data = flag('data', '/work/shared/data');
  const workDir = join(tmpdir(), 'pctr-bench-zoo-gbdt');
  mkdirSync(workDir, { recursive: true });
  const splits: ZooSplit[] = [];
  for (const [dataset, kind, name] of [['criteo', 'criteo', 'criteo-sample.tsv.gz'], ['avazu', 'avazu', 'avazu-sample.csv.gz']] as const) {
    const s = await splitFile(join(data, name), { dataset: kind, trainFraction: 0.9 });
    splits.push({ dataset, kind, path: join(data, name), train: s.train, test: s.test });
  }
  if (!hasFlag('quick')) {
    const { path } = await generatedCriteo(Number(flag('rows', '1000000')), workDir);
    const total = await countRows(path);
    const cut = Math.floor(total * 0.9);
    splits.push({ dataset: 'synthetic_criteo', kind: 'criteo', path, train: { from: 0, to: cut }, test: { from: cut, to: total } });
  }
  const results: GbdtZooRow[] = [];
  for (const s of splits) results.push(...(await runGbdtZoo(s, { workDir })));
  printTable(
    'GBDT / GBDT+LR: pctr vs xgboost hist (2 threads), same features and hyperparameters',
    ['data set', 'model', 'system', 'AUC', 'logloss', 'train s', 'train CPU s', 'trees', 'ex/CPU s', 'score100 ms'],
    results.map((r) => [r.dataset, r.model, r.system, r.auc.toFixed(4), r.logloss.toFixed(4), r.train_s.toFixed(2), r.train_cpu_s.toFixed(2), fmt(r.trees), fmt(r.examples_per_s), r.score100_ms.toFixed(3)]),
  );
  if (hasFlag('json')) printJson({ bench: 'zoo-gbdt', hyper: GBDT_HYPER, rows: results });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
