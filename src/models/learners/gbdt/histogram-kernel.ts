/**
 * The WASM SIMD histogram kernel and the memory it works in. Training keeps its big arrays — the
 * binned rows, the row index, the gathered (gradient, hessian) pairs and the histogram pool — in
 * one shared WebAssembly.Memory, so the kernel reads them where they are and worker threads attach
 * to the same bytes. A node's (g, h) pairs (f32s) are first gathered into the order of its rows in
 * the index; per row the kernel then loads the pair once, widened to an f64x2, and for each of four features adds it to the row's bin with one vector add and counts the
 * row: the same sums in the same order as the typed-array kernel (histogram.ts), so models are
 * bit-identical, at a third of its time (no bounds checks, one vector op for g and h). Above wasm32's 4 GiB, or where the
 * runtime does not validate the module, training falls back to SharedArrayBuffers and that kernel.
 */
import { I32, moduleBytes, op, V128, vec, type WasmFunction } from '../../kernels/wasm-asm.ts';
import { chunksOf, type RowUpdateInput } from './row-update.ts';
import { BIN_STRIDE, buildHistograms, gatherPairs, partitionRows, type HistogramInput, type HistogramKernels } from './histogram.ts';

const PAGE = 65536;
/** 4 GiB / 64 KiB: the wasm32 ceiling. */
const MAX_PAGES = 65536;
/** Histogram memory the pool may take (bytes). */
const POOL_BYTES = 256 * 1024 * 1024;
const BIN_BYTES = 8 * BIN_STRIDE;

/**
 * `hist<k>(bins₀…bins_{k−1}, hist₀…hist_{k−1}, index, pairs, start, end)`: for index positions
 * [start, end), row r = index[i] adds pair i (pairs[2i], pairs[2i + 1], f32s) to bin bins_j[r] of
 * histogram hist_j and counts it. All arguments are byte addresses except start and end.
 */
function histogramFunction(k: number): WasmFunction {
  const [index, gh, start, end] = [2 * k, 2 * k + 1, 2 * k + 2, 2 * k + 3];
  const [at, stop, row, bin, g] = [2 * k + 4, 2 * k + 5, 2 * k + 6, 2 * k + 7, 2 * k + 8];
  const code: number[][] = [
    // at = index + 4·start, stop = index + 4·end
    op.get(index), op.get(start), op.i32(2), op.shl, op.add, op.set(at),
    op.get(index), op.get(end), op.i32(2), op.shl, op.add, op.set(stop),
    op.block, op.loop, op.get(at), op.get(stop), op.geU, op.brIf(1),
    op.get(at), op.i32load, op.set(row),
    // The pair of position i sits at pairs + 2·(at − index).
    op.get(gh), op.get(at), op.get(index), op.sub, op.i32(1), op.shl, op.add, op.vload64(0), op.promote, op.set(g),
  ];
  for (let j = 0; j < k; j++) {
    code.push(
      // bin = hist_j + 24·bins_j[row]; bin.(g, h) += pair; bin.count += 1
      op.get(k + j), op.get(j), op.get(row), op.add, op.load8u(), op.i32(BIN_BYTES), op.mul, op.add, op.tee(bin),
      op.get(bin), op.vload(0), op.get(g), op.dadd, op.vstore(0),
      op.get(bin), op.get(bin), op.f64load(16), op.f64(1), op.f64add, op.f64store(16),
    );
  }
  code.push(
    op.get(at), op.i32(4), op.add, op.set(at),
    op.br(0), op.end, op.end,
  );
  const locals = vec([[4, I32], [1, V128]]);
  return { name: `hist${k}`, params: 2 * k + 4, body: [...locals, ...code.flat(), ...op.end] };
}

/** `gather(index, gh, pairs, start, end)`: pairs[i] = row index[i]'s (g, h), for i in [start, end) (8 bytes each). */
function gatherFunction(): WasmFunction {
  const [index, gh, pairs, start, end, at, stop] = [0, 1, 2, 3, 4, 5, 6];
  const code: number[][] = [
    op.get(index), op.get(start), op.i32(2), op.shl, op.add, op.set(at),
    op.get(index), op.get(end), op.i32(2), op.shl, op.add, op.set(stop),
    op.get(pairs), op.get(start), op.i32(3), op.shl, op.add, op.set(pairs),
    op.block, op.loop, op.get(at), op.get(stop), op.geU, op.brIf(1),
    op.get(pairs), op.get(gh), op.get(at), op.i32load, op.i32(3), op.shl, op.add, op.i64load(), op.i64store(),
    op.get(at), op.i32(4), op.add, op.set(at),
    op.get(pairs), op.i32(8), op.add, op.set(pairs),
    op.br(0), op.end, op.end,
  ];
  return { name: 'gather', params: 5, body: [...vec([[2, I32]]), ...code.flat(), ...op.end] };
}

/**
 * `partition(index, scratch, bins, start, end, bin, missingLeft) → mid`: the stable partition of
 * index[start, end) by "bins[row] ≤ bin" (bin 0, missing, goes left when missingLeft): left rows
 * stay in index from start, right rows go to scratch from 0 (the caller copies them after the
 * left ones). Without branches — each row is stored to both sides and one of the two counters
 * moves — because the comparison is as unpredictable as the data.
 */
function partitionFunction(): WasmFunction {
  const [index, scratch, bins, start, end, bin, missingLeft, at, stop, row, left, l, k] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
  const code: number[][] = [
    op.get(index), op.get(start), op.i32(2), op.shl, op.add, op.tee(at), op.set(l),
    op.get(index), op.get(end), op.i32(2), op.shl, op.add, op.set(stop),
    op.get(scratch), op.set(k),
    op.block, op.loop, op.get(at), op.get(stop), op.geU, op.brIf(1),
    op.get(at), op.i32load, op.set(row),
    // left = bins[row] == 0 ? missingLeft : bins[row] ≤ bin
    op.get(missingLeft), op.get(bins), op.get(row), op.add, op.load8u(), op.tee(left), op.get(bin), op.leU, op.get(left), op.eqz, op.select, op.set(left),
    op.get(l), op.get(row), op.i32store(), op.get(k), op.get(row), op.i32store(),
    op.get(l), op.get(left), op.i32(2), op.shl, op.add, op.set(l),
    op.get(k), op.i32(4), op.get(left), op.i32(2), op.shl, op.sub, op.add, op.set(k),
    op.get(at), op.i32(4), op.add, op.set(at),
    op.br(0), op.end, op.end,
    // mid = (l − index) / 4
    op.get(l), op.get(index), op.sub, op.i32(2), op.shrU,
  ];
  return { name: 'partition', params: 7, results: 1, body: [...vec([[6, I32]]), ...code.flat(), ...op.end] };
}

let kernelModule: WebAssembly.Module | null | undefined;

function histogramModule(): WebAssembly.Module | null {
  if (kernelModule === undefined) {
    const bytes = moduleBytes([histogramFunction(4), histogramFunction(1), gatherFunction(), partitionFunction()], MAX_PAGES);
    kernelModule = WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  }
  return kernelModule;
}

type Kernel = (...args: number[]) => void;

/** The kernels for `x`: WASM when x's arrays live in x.memory (and the runtime has WASM SIMD), else typed-array ones. */
export function histogramKernels(x: HistogramInput): HistogramKernels {
  const module = x.memory ? histogramModule() : null;
  if (module === null) {
    return {
      build: (base, start, end, fFrom, fTo) => buildHistograms(x, base, start, end, fFrom, fTo),
      gather: (start, end) => gatherPairs(x, start, end),
      partition: (start, end, feature, bin, missingLeft) => partitionRows(x, start, end, feature, bin, missingLeft),
    };
  }
  const exports = new WebAssembly.Instance(module, { env: { memory: x.memory } }).exports;
  const [hist4, hist1, gather] = [exports.hist4 as Kernel, exports.hist1 as Kernel, exports.gather as Kernel];
  const partition = exports.partition as (...args: number[]) => number;
  const { bins, rows, index, scratch, hist, offsets, binCounts, features } = x;
  const at = { bins: bins.byteOffset, index: index.byteOffset, gh: x.gh.byteOffset, pairs: x.pairs.byteOffset, scratch: scratch.byteOffset, hist: hist.byteOffset };
  const binsOf = (k: number): number => at.bins + features[k] * rows;
  return {
    build: (base, start, end, fFrom, fTo) => {
      const histOf = (k: number): number => at.hist + 8 * (base + offsets[features[k]]);
      for (let k = fFrom; k < fTo; k++) {
        const o = base + offsets[features[k]];
        hist.fill(0, o, o + BIN_STRIDE * binCounts[features[k]]);
      }
      let k = fFrom;
      for (; k + 4 <= fTo; k += 4) hist4(binsOf(k), binsOf(k + 1), binsOf(k + 2), binsOf(k + 3), histOf(k), histOf(k + 1), histOf(k + 2), histOf(k + 3), at.index, at.pairs, start, end);
      for (; k < fTo; k++) hist1(binsOf(k), histOf(k), at.index, at.pairs, start, end);
    },
    gather: (start, end) => gather(at.index, at.gh, at.pairs, start, end),
    partition: (start, end, feature, bin, missingLeft) => {
      const mid = partition(at.index, at.scratch, at.bins + feature * rows, start, end, bin, missingLeft ? 1 : 0);
      index.set(scratch.subarray(0, end - mid), mid);
      return mid;
    },
  };
}

/** The arrays of one training run, views of `memory` (null: plain SharedArrayBuffers, JS kernel). */
export interface TrainingArrays extends RowUpdateInput {
  readonly memory: WebAssembly.Memory | null;
  /** Binned features, column-major, rows × features. */
  readonly bins: Uint8Array;
  /** The pairs gathered into index order. */
  readonly pairs: Float32Array;
  /** Room for the right side of a partition. */
  readonly scratch: Int32Array;
  /** The histogram pool: whole histograms of at most `features · (maxBin + 2)` bins each. */
  readonly hist: Float64Array;
}

/** Histograms the pool holds: one per leaf (maxLeaves) unless that would take more than POOL_BYTES; at least 3. */
export function poolSlots(histogramDoubles: number, maxLeaves: number): number {
  return Math.max(3, Math.min(maxLeaves, Math.floor(POOL_BYTES / (8 * Math.max(1, histogramDoubles)))));
}

/** Allocates the arrays of a run on `rows` rows of `features` features in one shared memory (zeroed). */
export function trainingArrays(rows: number, features: number, maxBin: number, maxLeaves: number): TrainingArrays {
  const histDoubles = BIN_STRIDE * features * (maxBin + 2);
  const sizes = {
    bins: rows * features,
    index: 4 * rows,
    gh: 8 * rows,
    pairs: 8 * rows,
    scratch: 4 * rows,
    margins: 8 * rows,
    labels: rows,
    leafEnd: 4 * maxLeaves,
    leafValue: 8 * maxLeaves,
    partials: 16 * chunksOf(rows),
    leafOf: 2 * rows,
    hist: 8 * histDoubles * poolSlots(histDoubles, maxLeaves),
  };
  const align = (x: number): number => Math.ceil(x / 64) * 64;
  const bytes = Object.values(sizes).reduce((s, b) => s + align(b), 0);
  const pages = Math.max(1, Math.ceil(bytes / PAGE));
  let buffer: SharedArrayBuffer;
  let memory: WebAssembly.Memory | null = null;
  if (pages <= MAX_PAGES && histogramModule() !== null) {
    memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
    buffer = memory.buffer as unknown as SharedArrayBuffer;
  } else {
    buffer = new SharedArrayBuffer(bytes);
  }
  let next = 0;
  const view = <T>(Ctor: new (b: SharedArrayBuffer, at: number, length: number) => T, name: keyof typeof sizes, bytesPer: number): T => {
    const at = next;
    next += align(sizes[name]);
    return new Ctor(buffer, at, sizes[name] / bytesPer);
  };
  return {
    memory,
    bins: view(Uint8Array, 'bins', 1),
    index: view(Int32Array, 'index', 4),
    gh: view(Float32Array, 'gh', 4),
    pairs: view(Float32Array, 'pairs', 4),
    scratch: view(Int32Array, 'scratch', 4),
    margins: view(Float64Array, 'margins', 8),
    labels: view(Uint8Array, 'labels', 1),
    leafEnd: view(Int32Array, 'leafEnd', 4),
    leafValue: view(Float64Array, 'leafValue', 8),
    partials: view(Float64Array, 'partials', 8),
    leafOf: view(Uint16Array, 'leafOf', 2),
    hist: view(Float64Array, 'hist', 8),
  };
}
