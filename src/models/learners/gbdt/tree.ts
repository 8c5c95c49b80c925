/**
 * The trained forest, flattened into typed arrays so scoring walks numbers, not objects: per node
 * its feature (−1 for a leaf), raw threshold (left when value ≤ threshold), the child missing values
 * take, its children and (for leaves) the value and the leaf's number within its tree. Node indices
 * are global; tree t's root is `roots[t]`. While training, nodes also keep their threshold bin, so
 * validation rows can be scored on their bins. Tensors round-trip exactly through the artifact.
 */
import { PctrError } from '../../../core/index.ts';
import { compileLeaves, compileMargins, ForestScorer, type LeafKernel, type MarginKernel } from './forest-scorer.ts';

export type ForestTensors = {
  readonly 'tree.roots': Int32Array;
  readonly 'tree.feature': Int32Array;
  readonly 'tree.threshold': Float64Array;
  readonly 'tree.left': Int32Array;
  readonly 'tree.right': Int32Array;
  readonly 'tree.missingLeft': Uint8Array;
  readonly 'tree.value': Float64Array;
};

export class Forest {
  roots = new Int32Array(16);
  trees = 0;
  nodes = 0;
  feature = new Int32Array(256);
  threshold = new Float64Array(256);
  /** Threshold bin (training only, not stored). */
  bin = new Int32Array(256);
  left = new Int32Array(256);
  right = new Int32Array(256);
  missingLeft = new Uint8Array(256);
  value = new Float64Array(256);
  /** Leaf number within its tree (−1 for inner nodes). */
  leaf = new Int32Array(256);
  private compiled: ForestScorer | null = null;
  /** The margin and leaf code for the forest at `nodes` nodes (undefined: not compiled yet; null: walk instead). */
  private kernels: { nodes: number; margins?: MarginKernel | null; leaves?: LeafKernel | null } = { nodes: -1 };
  private cursors = new Int32Array(0);

  /** Appends a node and returns its index; a leaf until `setSplit`. */
  addNode(): number {
    if (this.nodes === this.feature.length) this.grow(2 * this.nodes);
    const i = this.nodes++;
    this.feature[i] = -1;
    this.leaf[i] = -1;
    this.value[i] = 0;
    this.left[i] = this.right[i] = -1;
    this.threshold[i] = 0;
    this.bin[i] = 0;
    this.missingLeft[i] = 0;
    return i;
  }

  startTree(): number {
    if (this.trees === this.roots.length - 1) this.roots = grown(this.roots, 2 * this.roots.length);
    const root = this.addNode();
    this.roots[this.trees++] = root;
    return root;
  }

  setSplit(node: number, feature: number, bin: number, threshold: number, missingLeft: boolean, left: number, right: number): void {
    this.feature[node] = feature;
    this.bin[node] = bin;
    this.threshold[node] = threshold;
    this.missingLeft[node] = missingLeft ? 1 : 0;
    this.left[node] = left;
    this.right[node] = right;
  }

  /** Numbers the leaves of the last tree in node order; call once its nodes are final. */
  finishTree(): void {
    const t = this.trees - 1;
    this.roots[this.trees] = this.nodes;
    let leaves = 0;
    for (let i = this.roots[t]; i < this.nodes; i++) if (this.feature[i] < 0) this.leaf[i] = leaves++;
  }

  /** Keeps the first `trees` trees (early stopping). */
  truncate(trees: number): void {
    if (trees >= this.trees) return;
    this.nodes = this.roots[trees];
    this.trees = trees;
    this.roots[trees] = this.nodes;
  }

  /**
   * Adds each tree's value for `n` rows of row-major features (`width` per row) to margins, with the
   * forest compiled to code (recompiled when its node count changes) or, when that is refused, walked.
   */
  addMargins(x: Float32Array, n: number, width: number, margins: Float64Array): void {
    const k = this.currentKernels();
    if (k.margins === undefined) k.margins = compileMargins(this);
    if (k.margins) {
      k.margins(x, n, width, margins);
      return;
    }
    const c = this.compile();
    const at = this.cursor(n);
    const value = this.value;
    for (let t = 0; t < this.trees; t++) {
      c.walk(this.roots[t], x, n, width, at);
      for (let r = 0; r < n; r++) margins[r] += value[at[r]];
    }
  }

  /** The leaf number of every row in every tree: out[t][r] = leaf + 1 (0 stays free for "missing"); compiled or walked as addMargins. */
  leaves(x: Float32Array, n: number, width: number, out: readonly Int32Array[]): void {
    const k = this.currentKernels();
    if (k.leaves === undefined) k.leaves = compileLeaves(this);
    if (k.leaves) {
      k.leaves(x, n, width, out);
      return;
    }
    const c = this.compile();
    const at = this.cursor(n);
    for (let t = 0; t < this.trees; t++) {
      c.walk(this.roots[t], x, n, width, at);
      const col = out[t];
      for (let r = 0; r < n; r++) col[r] = this.leaf[at[r]] + 1;
    }
  }

  /** The compiled code of the forest as it is now: dropped when it has changed (training appends, truncate). */
  private currentKernels(): Forest['kernels'] {
    if (this.kernels.nodes !== this.nodes) this.kernels = { nodes: this.nodes };
    return this.kernels;
  }

  /** The scoring layout, rebuilt when the forest has changed (training appends, truncate). */
  private compile(): ForestScorer {
    if (this.compiled === null || this.compiled.nodes !== this.nodes) this.compiled = new ForestScorer(this);
    return this.compiled;
  }

  private cursor(n: number): Int32Array {
    if (this.cursors.length < n) this.cursors = new Int32Array(Math.max(n, 2 * this.cursors.length));
    return this.cursors;
  }

  /** Adds tree t's values to margins of `n` rows binned column-major (feature f of row r at f·n + r). */
  addBinnedMargins(t: number, bins: Uint8Array, n: number, margins: Float64Array): void {
    const { feature, bin, left, right, missingLeft, value } = this;
    const root = this.roots[t];
    for (let r = 0; r < n; r++) {
      let i = root;
      for (let f = feature[i]; f >= 0; f = feature[i]) {
        const b = bins[f * n + r];
        i = b === 0 ? (missingLeft[i] ? left[i] : right[i]) : b <= bin[i] ? left[i] : right[i];
      }
      margins[r] += value[i];
    }
  }

  toTensors(): ForestTensors {
    const n = this.nodes;
    return {
      'tree.roots': this.roots.slice(0, this.trees),
      'tree.feature': this.feature.slice(0, n),
      'tree.threshold': this.threshold.slice(0, n),
      'tree.left': this.left.slice(0, n),
      'tree.right': this.right.slice(0, n),
      'tree.missingLeft': this.missingLeft.slice(0, n),
      'tree.value': this.value.slice(0, n),
    };
  }

  static fromTensors(tensors: Readonly<Record<string, unknown>>, features: number): Forest {
    const t = tensors as Partial<ForestTensors>;
    const roots = t['tree.roots'];
    const feature = t['tree.feature'];
    const arrays = [t['tree.threshold'], t['tree.left'], t['tree.right'], t['tree.missingLeft'], t['tree.value']];
    const kinds = [Float64Array, Int32Array, Int32Array, Uint8Array, Float64Array];
    if (!(roots instanceof Int32Array) || !(feature instanceof Int32Array) || arrays.some((a, k) => !(a instanceof kinds[k]) || a.length !== feature.length)) {
      throw new PctrError('PCTR_ARTIFACT_CORRUPT', 'gbdt artifact needs tree tensors roots, feature, left, right (i32), threshold, value (f64), missingLeft (u8), one entry per node');
    }
    const forest = new Forest();
    forest.grow(Math.max(feature.length, 1));
    forest.nodes = feature.length;
    forest.feature.set(feature);
    forest.threshold.set(t['tree.threshold']!);
    forest.left.set(t['tree.left']!);
    forest.right.set(t['tree.right']!);
    forest.missingLeft.set(t['tree.missingLeft']!);
    forest.value.set(t['tree.value']!);
    forest.roots = new Int32Array(roots.length + 1);
    forest.roots.set(roots);
    forest.roots[roots.length] = feature.length;
    forest.trees = roots.length;
    forest.check(features);
    forest.leaf.fill(-1, 0, forest.nodes);
    for (let k = 0; k < forest.trees; k++) {
      let leaves = 0;
      for (let i = forest.roots[k]; i < forest.roots[k + 1]; i++) if (forest.feature[i] < 0) forest.leaf[i] = leaves++;
    }
    return forest;
  }

  /** Every tree a range of nodes whose children lie after them, inside the same tree: walks end. */
  private check(features: number): void {
    for (let k = 0; k < this.trees; k++) {
      const from = this.roots[k];
      const to = this.roots[k + 1];
      if (!(from < to)) throw new PctrError('PCTR_ARTIFACT_CORRUPT', `gbdt artifact tree ${k} has no nodes`);
      for (let i = from; i < to; i++) {
        if (this.feature[i] < 0) continue;
        const bad = this.feature[i] >= features || !(this.left[i] > i && this.left[i] < to) || !(this.right[i] > i && this.right[i] < to);
        if (bad) throw new PctrError('PCTR_ARTIFACT_CORRUPT', `gbdt artifact node ${i} of tree ${k} points outside its tree or features`);
      }
    }
  }

  private grow(capacity: number): void {
    this.feature = grown(this.feature, capacity);
    this.threshold = grown(this.threshold, capacity);
    this.bin = grown(this.bin, capacity);
    this.left = grown(this.left, capacity);
    this.right = grown(this.right, capacity);
    this.missingLeft = grown(this.missingLeft, capacity);
    this.value = grown(this.value, capacity);
    this.leaf = grown(this.leaf, capacity);
  }
}

function grown<T extends Int32Array | Float64Array | Uint8Array>(a: T, capacity: number): T {
  if (capacity <= a.length) return a;
  const out = new (a.constructor as new (n: number) => T)(capacity);
  out.set(a);
  return out;
}
