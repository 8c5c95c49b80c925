import { describe, expect, it } from 'vitest';
import { Arena } from '../../kernels/index.ts';
import { DcnLayout, type DcnShape } from './layout.ts';
import { DcnNetwork } from './network.ts';
import { seededRandom } from '../../../../test/helpers/synthetic-ctr.ts';

const ROWS = 7;
const TABLE_ROWS = 50;

/** A small network with random weights and a batch of 7 rows, its mean logloss in doubles from the forward pass. */
function setup(shape: DcnShape, backend: 'wasm-simd' | 'js') {
  const layout = new DcnLayout(shape, 1, ROWS, 8);
  const k = shape.embeddingDim;
  const arena = new Arena(layout.floats + TABLE_ROWS * k, backend);
  const rand = seededRandom(3);
  const table = arena.f32.subarray(layout.floats, layout.floats + TABLE_ROWS * k);
  for (let i = 0; i < table.length; i++) table[i] = rand() - 0.5;
  const net = new DcnNetwork(arena, layout, layout.floats, k);
  const f = arena.f32;
  for (const w of layout.matrices) for (let i = 0; i < w.realRows; i++) for (let j = 0; j < w.realCols; j++) f[w.off + i * w.cols + j] = (rand() - 0.5) * 0.8;
  for (const l of layout.cross) for (let c = 0; c < layout.width; c++) f[l.bias + c] = (rand() - 0.5) * 0.2;
  for (const l of layout.dense) for (let c = 0; c < l.w.realCols; c++) f[l.bias + c] = (rand() - 0.5) * 0.2;
  const last = layout.dense.length ? layout.dense[layout.dense.length - 1].w.realCols : layout.width;
  for (let c = 0; c < last; c++) f[layout.outW + c] = rand() - 0.5;
  f[layout.outB] = 0.1;
  for (let i = 0; i < ROWS * shape.fields; i++) arena.i32[layout.tokens + i] = Math.floor(rand() * TABLE_ROWS);
  for (let i = 0; i < ROWS; i++) f[layout.labels + i] = i % 3 === 0 ? 1 : 0;
  net.transposeWeights();
  const loss = (): number => {
    net.forward(0, 0, ROWS);
    let s = 0;
    for (let i = 0; i < ROWS; i++) {
      const p = f[layout.probs + i];
      s -= f[layout.labels + i] === 1 ? Math.log(p) : Math.log(1 - p);
    }
    return s / ROWS;
  };
  return { layout, arena, net, table, loss };
}

/** Central difference of the loss in one float, with eps scaled to float32's precision. */
function numeric(values: Float32Array, i: number, loss: () => number, after: () => void = () => {}): number {
  const eps = 2e-3;
  const x = values[i];
  values[i] = x + eps;
  after();
  const up = loss();
  values[i] = x - eps;
  after();
  const down = loss();
  values[i] = x;
  after();
  return (up - down) / (2 * eps);
}

describe('DcnNetwork backward', () => {
  const shapes: [string, DcnShape][] = [
    ['full-rank cross + MLP', { fields: 3, embeddingDim: 3, crossLayers: 2, crossRank: 0, hidden: [5, 4] }],
    ['low-rank cross + MLP', { fields: 3, embeddingDim: 3, crossLayers: 2, crossRank: 2, hidden: [6] }],
    ['cross only', { fields: 2, embeddingDim: 4, crossLayers: 3, crossRank: 0, hidden: [] }],
  ];
  for (const [name, shape] of shapes) {
    it(`matches finite differences: ${name}`, () => {
      const { layout, arena, net, table, loss } = setup(shape, 'wasm-simd');
      const f = arena.f32;
      loss();
      net.backward(0, 0, ROWS, ROWS);
      const G = layout.scratch[0].grads;
      const analytic = Float64Array.from(f.subarray(G, G + layout.params));
      const dx0 = Float64Array.from(f.subarray(layout.scratch[0].dx0, layout.scratch[0].dx0 + ROWS * layout.d));
      let checked = 0;
      for (const w of layout.matrices) {
        for (let i = 0; i < w.realRows; i += 2) {
          for (let j = 0; j < w.realCols; j += 2) {
            const at = w.off + i * w.cols + j;
            expect(analytic[at]).toBeCloseTo(numeric(f, at, loss, () => net.transposeWeights()), 3);
            checked++;
          }
        }
      }
      for (const at of [layout.outB, layout.outW, ...layout.cross.map((l) => l.bias + 1), ...layout.dense.map((l) => l.bias)]) {
        expect(analytic[at]).toBeCloseTo(numeric(f, at, loss), 3);
        checked++;
      }
      // Embedding gradient: the sum of ∂x0 over the (row, field) slots that read the table row.
      const k = shape.embeddingDim;
      for (const row of [0, 1, 4]) {
        const token = arena.i32[layout.tokens + row * shape.fields + 1];
        let sum = 0;
        for (let r = 0; r < ROWS; r++) {
          for (let j = 0; j < shape.fields; j++) if (arena.i32[layout.tokens + r * shape.fields + j] === token) sum += dx0[r * layout.d + j * k + 1];
        }
        expect(sum).toBeCloseTo(numeric(table, token * k + 1, loss), 3);
        checked++;
      }
      expect(checked).toBeGreaterThan(20);
    });
  }

  it('gives the same forward and backward on the WASM and typed-array kernels', () => {
    const shape: DcnShape = { fields: 4, embeddingDim: 4, crossLayers: 2, crossRank: 0, hidden: [16, 8] };
    const results = (['wasm-simd', 'js'] as const).map((backend) => {
      const { layout, arena, net, loss } = setup(shape, backend);
      expect(arena.backend).toBe(backend);
      const l = loss();
      net.backward(0, 0, ROWS, ROWS);
      const G = layout.scratch[0].grads;
      return { l, grads: arena.f32.slice(G, G + layout.params) };
    });
    expect(results[0].l).toBeCloseTo(results[1].l, 6);
    for (let i = 0; i < results[0].grads.length; i++) expect(results[0].grads[i]).toBeCloseTo(results[1].grads[i], 5);
  });
});
