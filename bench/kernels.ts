/**
 * `node --import tsx bench/kernels.ts [--json]`: how the DCN's dense math runs on each kernel
 * backend — the typed-array JS kernels and the WebAssembly SIMD ones (src/models/kernels/) — at the
 * shapes the default DCN-v2 uses on Criteo (39 fields × 8 = 312 wide, 256-row slices): GEMM GFLOPS
 * per CPU second (C = A·B and the weight-gradient form C = Aᵀ·B), and a whole forward + backward of
 * the network on one slice and a forward on 100 rows (scoring), low-rank and full-rank cross.
 * Numbers are per CPU second of this process (one core): the machine is shared.
 */
import { Arena, type GemmBackend } from '../src/models/kernels/index.ts';
import { DcnLayout, type DcnShape } from '../src/models/learners/dcn/layout.ts';
import { DcnNetwork } from '../src/models/learners/dcn/network.ts';
import { measure } from './lib/measure.ts';
import { hasFlag, printJson, printTable } from './lib/report.ts';

const BACKENDS: GemmBackend[] = ['js', 'wasm-simd'];
const GEMMS: [string, number, number, number, boolean][] = [
  ['x·V (256×312·312×16)', 256, 312, 16, false],
  ['v·U (256×16·16×312)', 256, 16, 312, false],
  ['h·W1 (256×312·312×64)', 256, 312, 64, false],
  ['full rank x·W (256×312·312×312)', 256, 312, 312, false],
  ['grad xᵀ·du (312×256ᵀ·256×312)', 312, 256, 312, true],
];

async function gflops(backend: GemmBackend, m: number, k: number, n: number, transposed: boolean): Promise<number> {
  const arena = new Arena(m * k + k * n + m * n + 64, backend);
  const [a, b, c] = [0, m * k, m * k + k * n];
  for (let i = 0; i < c; i++) arena.f32[i] = Math.sin(i);
  const run = () => (transposed ? arena.gemmTN(m, k, n, a, m, b, n, c, n, false) : arena.gemm(m, k, n, a, k, b, n, c, n, false));
  for (let i = 0; i < 3; i++) run();
  const reps = Math.max(3, Math.ceil((backend === 'js' ? 2e8 : 2e9) / (2 * m * k * n)));
  const t = await measure(() => {
    for (let r = 0; r < reps; r++) run();
  });
  return (2 * m * k * n * reps) / t.cpu / 1e9;
}

/** Rows per CPU second of forward + backward on 256-row slices, and ms to score 100 rows. */
async function network(backend: GemmBackend, shape: DcnShape): Promise<{ train: number; score100: number }> {
  const layout = new DcnLayout(shape, 1, 256);
  const rows = 1 << 16;
  const arena = new Arena(layout.floats + rows * shape.embeddingDim, backend);
  for (let i = layout.floats; i < layout.floats + rows * shape.embeddingDim; i++) arena.f32[i] = Math.sin(i) * 0.01;
  const net = new DcnNetwork(arena, layout, layout.floats, shape.embeddingDim);
  for (let i = 0; i < layout.params; i++) arena.f32[i] = Math.cos(i) * 0.05;
  net.transposeWeights();
  for (let i = 0; i < 256 * shape.fields; i++) arena.i32[layout.tokens + i] = (i * 2654435761) % rows >>> 0;
  for (let i = 0; i < 256; i++) arena.f32[layout.labels + i] = i % 5 === 0 ? 1 : 0;
  const steps = backend === 'js' ? 10 : 60;
  const train = await measure(() => {
    for (let s = 0; s < steps; s++) {
      net.forward(0, 0, 256);
      net.backward(0, 0, 256, 256);
    }
  });
  const scores = backend === 'js' ? 50 : 500;
  const score = await measure(() => {
    for (let s = 0; s < scores; s++) net.forward(0, 0, 100);
  });
  return { train: (256 * steps) / train.cpu, score100: (1000 * score.cpu) / scores };
}

async function main(): Promise<void> {
  const results: Record<string, Record<string, number>> = {};
  const rows: string[][] = [];
  for (const [label, m, k, n, t] of GEMMS) {
    const r = (results[label] = {} as Record<string, number>);
    for (const b of BACKENDS) r[b] = await gflops(b, m, k, n, t);
    rows.push([`GEMM ${label}`, `${r.js.toFixed(2)} GFLOPS`, `${r['wasm-simd'].toFixed(2)} GFLOPS`, `${(r['wasm-simd'] / r.js).toFixed(1)}×`]);
  }
  const shapes: [string, DcnShape][] = [
    ['DCN-v2 low rank 16, MLP 64-32', { fields: 39, embeddingDim: 8, crossLayers: 2, crossRank: 16, hidden: [64, 32] }],
    ['DCN-v2 full rank, MLP 64-32', { fields: 39, embeddingDim: 8, crossLayers: 2, crossRank: 0, hidden: [64, 32] }],
  ];
  for (const [label, shape] of shapes) {
    const r = { js: await network('js', shape), wasm: await network('wasm-simd', shape) };
    results[label] = { js_train_rows_per_s: r.js.train, wasm_train_rows_per_s: r.wasm.train, js_score100_ms: r.js.score100, wasm_score100_ms: r.wasm.score100 };
    rows.push([`${label}: fwd+bwd rows/s`, r.js.train.toFixed(0), r.wasm.train.toFixed(0), `${(r.wasm.train / r.js.train).toFixed(1)}×`]);
    rows.push([`${label}: forward 100 rows ms`, r.js.score100.toFixed(3), r.wasm.score100.toFixed(3), `${(r.js.score100 / r.wasm.score100).toFixed(1)}×`]);
  }
  printTable('Dense math of the DCN: typed-array JS vs WebAssembly SIMD (per CPU second, one core)', ['kernel', 'js', 'wasm-simd', 'speed-up'], rows);
  if (hasFlag('json')) printJson({ bench: 'kernels', results });
}

await main();
