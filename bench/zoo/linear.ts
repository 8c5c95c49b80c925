/**
 * The linear baseline of the model-zoo benchmark: pctr's FTRL-Proximal logistic regression beside
 * sklearn's LogisticRegression (L2, solver 'saga') on the same hashed features (CSR files), as in
 * bench/learners.ts: FTRL's alpha chosen over 5 values by its progressive-validation logloss on the
 * training rows, sklearn's C over 5 values on the last ninth of them (bench/peers/sklearn_lr.py;
 * on files above 100k training rows one fit with LARGE_C).
 * saga rather than liblinear: liblinear ran over 15 min on the generated file's 900k rows, saga
 * takes ~2.5 min there at the AUC of lbfgs and within 0.002 AUC of liblinear on the samples
 * (measurements in the peer's logistic_regression).
 * train_s is wall time of the final fit (pctr from the raw file; sklearn on its matrix).
 */
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RawBatch } from '../../src/core/index.ts';
import { datasetSchema, readDataset, type RowRange } from '../../src/datasets/index.ts';
import { createLearner, evaluateModel, type FtrlLearner } from '../../src/models/index.ts';
import { encodeAll, writeCsr } from '../lib/hashed-csr.ts';
import { measure } from '../lib/measure.ts';
import { runPeer } from '../lib/peers.ts';
import { percentile } from '../lib/report.ts';
import type { ZooSplit } from './fm.ts';

export interface LinearZooRow {
  readonly dataset: string;
  readonly model: 'lr';
  readonly system: 'pctr' | 'sklearn';
  readonly auc: number;
  readonly logloss: number;
  readonly train_s: number;
  readonly score100_ms: number;
  readonly examples_per_s: number;
}

const FTRL_ALPHAS = [0.02, 0.05, 0.1, 0.2, 0.4];
/** Above this many training rows sklearn fits once with LARGE_C (the grid's five extra saga fits would add ~10 min). */
const GRID_ROWS = 100_000;
/**
 * The grid's choice on the generated file, made once by its procedure (fit on the first 800k rows,
 * logloss on the last ninth of the training rows: C 0.01 0.4392, 0.03 0.4383, 0.1 0.4410); C = 1
 * overfits there (test logloss 0.473), which would make a weak baseline.
 */
export const LARGE_C = 0.03;

interface PeerScore {
  auc: number;
  logloss: number;
  fit_seconds: number;
  examples_per_s: number;
  score100_ms: number;
}

export async function runLinearZoo(split: ZooSplit, opts: { workDir?: string; note?: (line: string) => void } = {}): Promise<LinearZooRow[]> {
  const note = opts.note ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const workDir = opts.workDir ?? join(tmpdir(), 'pctr-bench-zoo-linear');
  mkdirSync(workDir, { recursive: true });
  const schema = datasetSchema(split.kind);
  const read = (rows: RowRange) => readDataset(split.kind, split.path, { rows });
  note(`${split.dataset} lr: pctr FTRL, alpha by progressive validation …`);
  let best = FTRL_ALPHAS[0];
  let bestLoss = Infinity;
  for (const alpha of FTRL_ALPHAS) {
    const { trainLogloss } = await createLearner('ftrl', { alpha }, schema).fit(() => read(split.train));
    if (trainLogloss! < bestLoss) [best, bestLoss] = [alpha, trainLogloss!];
  }
  const ftrl = createLearner('ftrl', { alpha: best }, schema) as FtrlLearner;
  const fit = await measure(() => ftrl.fit(() => read(split.train)));
  const test = await evaluateModel(ftrl, read(split.test));
  let candidates: RawBatch | null = null;
  for await (const b of read(split.test)) {
    candidates = { n: Math.min(100, b.n), schema: b.schema, columns: b.columns.map((c) => c.slice(0, 100)) };
    break;
  }
  const out = new Float32Array(candidates!.n);
  for (let i = 0; i < 200; i++) ftrl.predict(candidates!, out);
  const times = Float64Array.from({ length: 2000 }, () => {
    const t = performance.now();
    ftrl.predict(candidates!, out);
    return performance.now() - t;
  });
  const trainRows = split.train.to - split.train.from;
  const rows: LinearZooRow[] = [
    { dataset: split.dataset, model: 'lr', system: 'pctr', auc: test.auc, logloss: test.logloss, train_s: fit.wall, score100_ms: percentile(times, 0.5), examples_per_s: trainRows / fit.cpu },
  ];
  note(`${split.dataset} lr: pctr AUC ${test.auc.toFixed(4)} logloss ${test.logloss.toFixed(4)} train ${fit.wall.toFixed(1)} s; sklearn LogisticRegression …`);
  const files = [join(workDir, `${split.dataset}-lr-train.csr`), join(workDir, `${split.dataset}-lr-test.csr`)];
  await writeCsr(files[0], await encodeAll(ftrl.encoder, read(split.train)), ftrl.encoder.spec.bits);
  await writeCsr(files[1], await encodeAll(ftrl.encoder, read(split.test)), ftrl.encoder.spec.bits);
  const fixed = trainRows > GRID_ROWS ? ['--c', String(LARGE_C)] : [];
  const peer = (await runPeer<{ sklearn_lr: PeerScore }>('sklearn_lr.py', ['quality', ...files, ...fixed])).sklearn_lr;
  rows.push({ dataset: split.dataset, model: 'lr', system: 'sklearn', auc: peer.auc, logloss: peer.logloss, train_s: peer.fit_seconds, score100_ms: peer.score100_ms, examples_per_s: peer.examples_per_s });
  return rows;
}
