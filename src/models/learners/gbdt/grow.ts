/**
 * Growing one tree leaf-wise (best-first, as LightGBM and xgboost's lossguide): the open leaf
 * whose best split gains most is split next, until maxLeaves. Each split partitions the leaf's
 * range of the row index in place (stable, so child ranges stay sorted and their bins are read
 * in memory order), builds the histograms of the smaller child only and gets the larger child's by
 * subtracting from the parent's, in the parent's memory. Histograms live in a pool of slots; when
 * it runs out, the open leaf least likely to be split next gives up its slot, and is rebuilt from
 * its rows if it is split after all.
 */
import { histogramLayout, subtractHistogram } from './histogram.ts';
import { poolSlots, type TrainingArrays } from './histogram-kernel.ts';
import { HistogramThreads, type GrowInput } from './histogram-threads.ts';
import type { GbdtParams } from './params.ts';
import { findBestSplit, Split } from './split.ts';
import type { Forest } from './tree.ts';

/** Training rows binned: feature f of row r at arrays.bins[f·n + r], with the rest of training's arrays. */
export interface BinnedRows {
  readonly n: number;
  /** Per feature: upper boundaries of its value bins (binning.ts). */
  readonly upper: readonly Float64Array[];
  readonly arrays: TrainingArrays;
}

interface Leaf {
  node: number;
  start: number;
  end: number;
  depth: number;
  g: number;
  h: number;
  c: number;
  slot: number;
  readonly split: Split;
}

export class TreeGrower {
  private readonly input: GrowInput;
  /** Sums of the rows' gradients and hessians (the next root's). */
  private sums = { g: 0, h: 0 };
  private readonly size: number;
  private readonly free: number[] = [];
  private readonly leaves: Leaf[] = [];
  private readonly spare: Leaf[] = [];

  private constructor(
    private readonly data: BinnedRows,
    private readonly p: GbdtParams,
    private readonly threads: HistogramThreads,
    input: GrowInput,
    size: number,
    slots: number,
  ) {
    this.input = input;
    this.size = size;
    for (let s = slots - 1; s >= 0; s--) this.free.push(s);
  }

  static async create(data: BinnedRows, p: GbdtParams, threads: number): Promise<TreeGrower> {
    const binCounts = Int32Array.from(data.upper, (u) => u.length + 2);
    const { offsets, size } = histogramLayout(binCounts);
    const features = Int32Array.from(data.upper, (_, f) => f);
    const a = data.arrays;
    // The pool was sized for histograms of maxBin bins per feature; the real ones may be smaller.
    const slots = Math.min(poolSlots(size, p.maxLeaves), Math.floor(a.hist.length / Math.max(1, size)));
    const input: GrowInput = { ...a, rows: data.n, offsets, binCounts, features };
    return new TreeGrower(data, p, await HistogramThreads.start(input, threads), input, size, slots);
  }

  /** The training rows' margins (arrays.margins): every row's at `baseMargin`, and their first gradients. */
  start(baseMargin: number): Float64Array {
    const { index, margins, leafEnd, leafValue } = this.input;
    const n = this.data.n;
    margins.fill(baseMargin);
    for (let i = 0; i < n; i++) index[i] = i;
    // One leaf of value 0: the update only computes the gradients.
    leafEnd[0] = n;
    leafValue[0] = 0;
    this.sums = this.threads.update();
    return margins;
  }

  /** Grows one tree on the rows' gradients into `forest`, then adds its leaf values to the margins and computes the next gradients. */
  grow(forest: Forest): void {
    const { index, leafEnd, leafValue } = this.input;
    const n = this.data.n;
    for (let i = 0; i < n; i++) index[i] = i;
    const root = this.leaf(forest.startTree(), 0, n, 0, this.sums.g, this.sums.h, n);
    this.histogram(root);
    this.evaluate(root);
    const leaves = this.leaves;
    leaves.push(root);
    while (leaves.length < this.p.maxLeaves) {
      let best = -1;
      for (let k = 0; k < leaves.length; k++) if (leaves[k].split.found && (best < 0 || leaves[k].split.gain > leaves[best].split.gain)) best = k;
      if (best < 0) break;
      const [left, right] = this.split(leaves[best], forest);
      leaves[best] = left;
      leaves.push(right);
    }
    const { lambda, learningRate } = this.p;
    leaves.sort((a, b) => a.start - b.start);
    for (let k = 0; k < leaves.length; k++) {
      const leaf = leaves[k];
      const w = (-leaf.g / (leaf.h + lambda)) * learningRate;
      forest.value[leaf.node] = w;
      leafEnd[k] = leaf.end;
      leafValue[k] = w;
      this.release(leaf);
      this.spare.push(leaf);
    }
    leaves.length = 0;
    forest.finishTree();
    this.sums = this.threads.update();
  }

  close(): Promise<void> {
    return this.threads.close();
  }

  private split(parent: Leaf, forest: Forest): [Leaf, Leaf] {
    const s = parent.split;
    const mid = this.threads.partition(parent.start, parent.end, s.feature, s.bin, s.missingLeft);
    const upper = this.data.upper[s.feature];
    const threshold = s.bin <= upper.length ? upper[s.bin - 1] : Infinity;
    const l = forest.addNode();
    const r = forest.addNode();
    forest.setSplit(parent.node, s.feature, s.bin, threshold, s.missingLeft, l, r);
    const depth = parent.depth + 1;
    const left = this.leaf(l, parent.start, mid, depth, s.gLeft, s.hLeft, mid - parent.start);
    const right = this.leaf(r, mid, parent.end, depth, parent.g - s.gLeft, parent.h - s.hLeft, parent.end - mid);
    const canLeft = this.splittable(left);
    const canRight = this.splittable(right);
    const [small, large] = left.c <= right.c ? [left, right] : [right, left];
    const canLarge = small === left ? canRight : canLeft;
    if (canLeft || canRight) {
      this.histogram(small, parent);
      if (canLarge) {
        if (parent.slot >= 0) {
          subtractHistogram(this.input.hist, parent.slot * this.size, small.slot * this.size, this.size);
          large.slot = parent.slot;
          parent.slot = -1;
        } else {
          this.histogram(large, small);
        }
      }
    }
    this.release(parent);
    this.spare.push(parent);
    for (const [child, can] of [
      [left, canLeft],
      [right, canRight],
    ] as const) {
      if (can) this.evaluate(child);
      else this.release(child);
    }
    return [left, right];
  }

  /** Builds the leaf's histograms into a slot (never taking `keep`'s). */
  private histogram(leaf: Leaf, keep: Leaf | null = null): void {
    leaf.slot = this.allocate(keep);
    this.threads.build(leaf.slot * this.size, leaf.start, leaf.end);
  }

  private evaluate(leaf: Leaf): void {
    const x = this.input;
    findBestSplit(x.hist, leaf.slot * this.size, x.offsets, x.binCounts, x.features, leaf, this.p, leaf.split);
    if (!leaf.split.found) this.release(leaf);
  }

  private splittable(leaf: Leaf): boolean {
    const { maxDepth, minChildSamples, minChildWeight } = this.p;
    return (maxDepth === 0 || leaf.depth < maxDepth) && leaf.c >= 2 * minChildSamples && leaf.h >= 2 * minChildWeight;
  }

  private allocate(keep: Leaf | null): number {
    const slot = this.free.pop();
    if (slot !== undefined) return slot;
    // Out of slots: take the one of the open leaf with the smallest gain (it is split last, if at all).
    let victim: Leaf | null = null;
    for (const leaf of this.leaves) if (leaf !== keep && leaf.slot >= 0 && (victim === null || leaf.split.gain < victim.split.gain)) victim = leaf;
    const taken = victim!.slot;
    victim!.slot = -1;
    return taken;
  }

  private release(leaf: Leaf): void {
    if (leaf.slot >= 0) this.free.push(leaf.slot);
    leaf.slot = -1;
  }

  private leaf(node: number, start: number, end: number, depth: number, g: number, h: number, c: number): Leaf {
    const leaf = this.spare.pop() ?? { node: 0, start: 0, end: 0, depth: 0, g: 0, h: 0, c: 0, slot: -1, split: new Split() };
    Object.assign(leaf, { node, start, end, depth, g, h, c, slot: -1 });
    leaf.split.reset();
    return leaf;
  }
}
