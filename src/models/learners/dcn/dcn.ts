/**
 * DCN-v2 (Wang et al., WWW 2021) over pctr's field-aware hashed tokens: each field's token picks
 * an embedding row (the shared EmbeddingTable), the rows side by side are x0, a cross network
 * (full-rank W or low-rank U·Vᵀ) then an MLP map it to the logit (layout.ts, network.ts).
 * Mini-batch Adam for the dense weights and the same Adam, applied sparsely to the rows a batch
 * touched, for the embeddings — torch.optim.Adam and SparseAdam, which the PyTorch peer uses.
 * Seeded and deterministic for a given thread count; data-parallel over worker threads
 * (trainer-pool.ts). Dense math runs in a WASM SIMD GEMM (kernels/).
 */
import { z } from 'zod';
import { PctrError } from '../../../core/index.ts';
import type { FeatureSchema, RawBatch } from '../../../core/index.ts';
import { CalibrationSpec, NO_CALIBRATION } from '../../calibration.ts';
import { EmbeddingTable } from '../../embeddings.ts';
import type { EncodedBatch } from '../../encoding/encoder.ts';
import { EncodingParams, EncodingSpec, encodingSpecOf } from '../../encoding/encoding-spec.ts';
import { HashedModel } from '../../hashed-model.ts';
import { Arena } from '../../kernels/index.ts';
import type { Artifact, FitOptions, FitReport, Learner } from '../../model.ts';
import { Adam, SparseGradient } from '../../optimizers.ts';
import { fitEpochs, type EncodedTrainer } from '../../training/fit-loop.ts';
import { fitQuantileEncoding } from '../../training/quantile-fit.ts';
import { Random } from '../../training/random.ts';
import { DcnLayout } from './layout.ts';
import { DcnNetwork } from './network.ts';
import { TrainerPool } from './trainer-pool.ts';

/** Layer widths as `64,32` (command line) or an array; empty = no MLP. */
const Widths = z.union([
  z.array(z.number().int().min(1).max(4096)),
  z
    .string()
    .regex(/^\s*(\d+\s*(,\s*\d+\s*)*)?$/, 'hidden must be widths like 64,32')
    .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean).map(Number)),
]);

export const DcnParams = z.strictObject({
  ...EncodingParams.shape,
  embeddingDim: z.coerce.number().int().min(1).max(64).default(8),
  crossLayers: z.coerce.number().int().min(0).max(8).default(2),
  /** 0 = full-rank cross weights (d × d); r > 0 = low rank U·Vᵀ (2·d·r weights per layer). */
  crossRank: z.coerce.number().int().min(0).max(1024).default(16),
  hidden: Widths.pipe(z.array(z.number().int().min(1).max(4096)).max(8)).default([64, 32]),
  batchSize: z.coerce.number().int().min(1).max(65_536).default(512),
  lr: z.coerce.number().positive().default(0.001),
  /** Standard deviation of the initial embedding weights. */
  initScale: z.coerce.number().min(0).default(0.01),
  epochs: z.coerce.number().int().min(1).max(1000).default(1),
  shuffleWindow: z.coerce.number().int().min(0).max(10_000_000).default(0),
  seed: z.coerce.number().int().default(1),
  /** Training threads (the main thread and threads − 1 workers). */
  threads: z.coerce.number().int().min(1).max(64).default(2),
});
export type DcnParams = z.output<typeof DcnParams>;

const EPS = 1e-15;

export class DcnLearner extends HashedModel implements Learner, EncodedTrainer {
  readonly kind = 'dcn';
  readonly params: DcnParams;
  private readonly layout: DcnLayout;
  /** Dense weights and activations, then the embedding table (so the WASM lookup reads it). */
  private arena: Arena;
  private table: EmbeddingTable;
  private net: DcnNetwork;
  private readonly adam: Adam;
  private adamState: Float32Array | null = null;
  private grad: SparseGradient | null = null;
  private pool: TrainerPool | null = null;
  /** Rows waiting for a full mini-batch (fit feeds them in windows of any size). */
  private readonly pendingTokens: Int32Array;
  private readonly pendingLabels: Uint8Array;
  private pending = 0;

  constructor(schema: FeatureSchema, params: DcnParams, encoding: EncodingSpec = encodingSpecOf(params), calibration: CalibrationSpec = NO_CALIBRATION, trainable = true) {
    super(schema, encoding, calibration);
    this.params = params;
    const shape = { fields: this.encoder.width - 1, embeddingDim: params.embeddingDim, crossLayers: params.crossLayers, crossRank: params.crossRank, hidden: params.hidden };
    this.layout = new DcnLayout(shape, params.threads, params.batchSize);
    const slots = trainable ? 2 : 0;
    this.arena = this.newArena(slots);
    this.table = this.newTable(slots);
    this.net = new DcnNetwork(this.arena, this.layout, this.layout.floats, this.table.stride);
    this.adam = new Adam({ lr: params.lr });
    this.pendingTokens = new Int32Array(params.batchSize * shape.fields);
    this.pendingLabels = new Uint8Array(params.batchSize);
    this.initDense();
  }

  static fromArtifact(artifact: Artifact): DcnLearner {
    const { header, tensors } = artifact;
    const params = DcnParams.safeParse(header.params);
    const encoding = EncodingSpec.safeParse(header.encoding);
    const calibration = CalibrationSpec.safeParse(header.calibration ?? NO_CALIBRATION);
    if (!params.success || !encoding.success || !calibration.success) {
      const issue = [params, encoding, calibration].find((r) => !r.success)!.error!.issues[0];
      throw new PctrError('PCTR_ARTIFACT_CORRUPT', `dcn artifact has invalid settings at ${issue.path.join('.') || '(root)'}: ${issue.message}`);
    }
    const model = new DcnLearner(header.schema, params.data, encoding.data, calibration.data, false);
    const dense = tensors.dense;
    if (!(dense instanceof Float32Array) || dense.length !== model.layout.params) {
      throw new PctrError('PCTR_ARTIFACT_CORRUPT', `dcn artifact needs a dense tensor of ${model.layout.params} f32 for its architecture`);
    }
    model.arena.f32.set(dense, 0);
    model.table.loadTensors('embedding', tensors);
    model.net.transposeWeights();
    model.restore(header);
    return model;
  }

  /** Which dense-math kernel this model runs on. */
  get backend(): string {
    return this.arena.backend;
  }

  async fit(data: () => AsyncIterable<RawBatch>, opts: FitOptions = {}): Promise<FitReport> {
    if (this.encoder.spec.numeric === 'quantile' && !this.encoder.spec.boundaries) {
      this.setEncoding(await fitQuantileEncoding(this.schema, this.encoder.spec, data));
    }
    this.prepareTraining();
    const p = this.params;
    if (p.threads > 1) {
      this.pool = await TrainerPool.start({
        memory: this.arena.memory,
        stride: this.table.stride,
        shape: this.layout.shape,
        threads: p.threads,
        batchSize: p.batchSize,
        backend: this.arena.backend,
      });
    }
    try {
      const r = await fitEpochs(this, data, { ...opts, epochs: p.epochs, shuffleWindow: p.shuffleWindow, seed: p.seed });
      const tail = this.pending > 0 ? this.step() : 0;
      this.trainedOn = { from: r.from, to: r.to, rows: r.examples, source: opts.source ?? '' };
      this.createdAt = new Date().toISOString();
      return { examples: r.examples, epochs: r.epochs, seconds: r.seconds, trainLogloss: r.trainLogloss + tail / r.examples };
    } finally {
      await this.pool?.close();
      this.pool = null;
    }
  }

  learnEncoded(enc: EncodedBatch, order?: Int32Array): number {
    const labels = enc.labels;
    if (!labels) throw new PctrError('PCTR_DATA_INVALID', 'training batches must carry labels');
    const F = this.layout.shape.fields;
    const batch = this.params.batchSize;
    let loss = 0;
    const { indices, offsets } = enc;
    const pending = this.pendingTokens;
    for (let t = 0; t < enc.n; t++) {
      const r = order === undefined ? t : order[t];
      for (let j = 0, s = offsets[r], o = this.pending * F; j < F; j++) pending[o + j] = indices[s + j];
      this.pendingLabels[this.pending++] = labels[r];
      if (this.pending === batch) loss += this.step();
    }
    return loss;
  }

  scoreEncoded(enc: EncodedBatch, out: Float32Array): void {
    const L = this.layout;
    const F = L.shape.fields;
    const i32 = this.arena.i32;
    const f32 = this.arena.f32;
    for (let from = 0; from < enc.n; from += L.sliceRows) {
      const m = Math.min(L.sliceRows, enc.n - from);
      for (let i = 0; i < m; i++) {
        for (let j = 0, s = enc.offsets[from + i], o = L.tokens + i * F; j < F; j++) i32[o + j] = enc.indices[s + j];
      }
      this.net.forward(0, 0, m);
      out.set(f32.subarray(L.probs, L.probs + m), from);
    }
  }

  toArtifact(): Artifact {
    const t = this.table;
    const rows: number[] = [];
    for (let r = 0; r < t.rows; r++) if (t.isTouched(r)) rows.push(r);
    const embedding = new Float32Array(rows.length * t.dim);
    rows.forEach((r, k) => embedding.set(t.data.subarray(r * t.stride, r * t.stride + t.dim), k * t.dim));
    const dense = this.arena.f32.slice(0, this.layout.params);
    return { header: this.header(this.params), tensors: { dense, embeddingIndex: Int32Array.from(rows), embedding } };
  }

  /** One Adam step on the pending mini-batch; returns its summed logloss (scored before the step). */
  private step(): number {
    const L = this.layout;
    const n = this.pending;
    const F = L.shape.fields;
    const { i32, f32 } = this.arena;
    const tokens = this.pendingTokens;
    for (let i = 0; i < n * F; i++) this.table.touch(tokens[i]);
    i32.set(tokens.subarray(0, n * F), L.tokens);
    let loss = 0;
    for (let i = 0; i < n; i++) f32[L.labels + i] = this.pendingLabels[i];
    const own = (): void => {
      const [s, e] = L.slice(0, n);
      this.net.forward(0, s, e);
      this.net.backward(0, s, e, n);
    };
    if (this.pool !== null) this.pool.step(n, n, own);
    else own();
    for (let i = 0; i < n; i++) {
      const p = f32[L.probs + i];
      const y = this.pendingLabels[i];
      loss -= Math.log(Math.max(y * p + (1 - y) * (1 - p), EPS));
    }
    this.apply(n);
    this.pending = 0;
    return loss;
  }

  /** Sums the threads' gradients in thread order and steps Adam on the dense weights and the touched embedding rows. */
  private apply(n: number): void {
    const L = this.layout;
    const f = this.arena.f32;
    const P = L.params;
    const G0 = L.scratch[0].grads;
    const F = L.shape.fields;
    const k = L.shape.embeddingDim;
    const d = L.d;
    const sg = this.grad!;
    for (let t = 0; t < L.threads; t++) {
      const [s, e] = L.slice(t, n);
      if (e <= s) continue;
      const dx0 = L.scratch[t].dx0;
      if (t > 0) for (let i = 0, G = L.scratch[t].grads; i < P; i++) f[G0 + i] += f[G + i];
      for (let r = s; r < e; r++) {
        const row = dx0 + (r - s) * d;
        for (let j = 0; j < F; j++) {
          const at = sg.row(this.pendingTokens[r * F + j]);
          const g = sg.grad;
          for (let c = 0; c < k; c++) g[at + c] += f[row + j * k + c];
        }
      }
    }
    this.adam.advance();
    const state = this.adamState!;
    for (let i = 0; i < P; i++) this.adam.step(f, i, state, i, P, f[G0 + i]);
    sg.apply(this.table, this.adam, 1);
    this.net.transposeWeights();
  }

  private newArena(slots: number): Arena {
    return new Arena(this.layout.floats + this.encoder.dimension * this.params.embeddingDim * (1 + slots));
  }

  /** The embedding table, in the arena after the layout's floats. */
  private newTable(slots: number): EmbeddingTable {
    const at = this.layout.floats;
    return new EmbeddingTable(this.encoder.dimension, this.params.embeddingDim, {
      init: { kind: 'normal', scale: this.params.initScale },
      seed: this.params.seed,
      initialState: new Array<number>(slots).fill(0),
      storage: this.arena.f32.subarray(at, at + this.encoder.dimension * this.params.embeddingDim * (1 + slots)),
      name: 'dcn embeddings',
    });
  }

  /** Optimizer state, once; a model loaded for scoring (weights only) moves to an arena with room for it. */
  private prepareTraining(): void {
    if (this.table.slots === 0) {
      const trained = this.table;
      const dense = this.arena.f32.slice(0, this.layout.params);
      this.arena = this.newArena(2);
      this.arena.f32.set(dense, 0);
      this.table = this.newTable(2);
      this.table.loadTensors('embedding', padRows(trained.toTensors('embedding'), trained.dim, this.table.stride));
      this.net = new DcnNetwork(this.arena, this.layout, this.layout.floats, this.table.stride);
      this.net.transposeWeights();
    }
    this.adamState ??= new Float32Array(2 * this.layout.params);
    this.grad ??= new SparseGradient(this.table);
  }

  /** Seeded uniform(±1/√fan_in) weights (PyTorch's Linear default), zero biases and padding. */
  private initDense(): void {
    const random = new Random(this.params.seed);
    const f = this.arena.f32;
    for (const w of this.layout.matrices) {
      const bound = 1 / Math.sqrt(w.realRows);
      for (let i = 0; i < w.realRows; i++) for (let j = 0; j < w.realCols; j++) f[w.off + i * w.cols + j] = bound * (2 * random.next() - 1);
    }
    const out = this.layout.dense.length > 0 ? this.layout.dense[this.layout.dense.length - 1].w.realCols : this.layout.width;
    for (let j = 0; j < out; j++) f[this.layout.outW + j] = (2 * random.next() - 1) / Math.sqrt(out);
    this.net.transposeWeights();
  }
}

/** Weights-only rows (dim floats each) spread to rows of `stride` floats, state zeroed. */
function padRows(t: Record<string, Int32Array | Float32Array>, dim: number, stride: number): Record<string, Int32Array | Float32Array> {
  const rows = t.embedding;
  const out = new Float32Array((rows.length / dim) * stride);
  for (let r = 0; r < rows.length / dim; r++) out.set(rows.subarray(r * dim, (r + 1) * dim), r * stride);
  return { embeddingIndex: t.embeddingIndex, embedding: out };
}
