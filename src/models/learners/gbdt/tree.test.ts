import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../../test/helpers/synthetic-ctr.ts';
import { compileLeaves, compileMargins, ForestScorer } from './forest-scorer.ts';
import { Forest } from './tree.ts';

const WIDTH = 5;

/** Random trees whose thresholds sit between float32 values (as binning puts them), some at ±Infinity. */
function randomForest(trees: number, seed: number): Forest {
  const rand = seededRandom(seed);
  const forest = new Forest();
  for (let t = 0; t < trees; t++) {
    const open = [{ node: forest.startTree(), depth: 0 }];
    while (open.length > 0) {
      const { node, depth } = open.pop()!;
      if (depth >= 6 || rand() < 0.2) {
        forest.value[node] = rand() - 0.5;
        continue;
      }
      const [a, b] = [Math.fround(rand() * 10 - 5), Math.fround(rand() * 10 - 5)].sort((p, q) => p - q);
      const threshold = rand() < 0.05 ? Infinity : a + (b - a) / 3;
      const [l, r] = [forest.addNode(), forest.addNode()];
      forest.setSplit(node, Math.floor(rand() * WIDTH), 0, threshold, rand() < 0.5, l, r);
      open.push({ node: l, depth: depth + 1 }, { node: r, depth: depth + 1 });
    }
    forest.finishTree();
  }
  return forest;
}

/** The plain walk, thresholds in float64, missing values by each node's learned side. */
function reference(f: Forest, x: Float32Array, r: number, t: number): number {
  let i = f.roots[t];
  while (f.feature[i] >= 0) {
    const v = x[r * WIDTH + f.feature[i]];
    i = Number.isNaN(v) ? (f.missingLeft[i] ? f.left[i] : f.right[i]) : v <= f.threshold[i] ? f.left[i] : f.right[i];
  }
  return i;
}

describe('GBDT forest scoring', () => {
  it('walks rows (in fours and the rest) to the leaves a plain float64 walk finds, NaN by the learned side', () => {
    const forest = randomForest(40, 1);
    const rand = seededRandom(2);
    const n = 103;
    const x = Float32Array.from({ length: n * WIDTH }, () => {
      const u = rand();
      return u < 0.1 ? NaN : u < 0.12 ? Infinity : u < 0.14 ? -Infinity : Math.fround(rand() * 12 - 6);
    });
    // Values on a threshold's float32 neighbours, where rounding the threshold the wrong way would flip a row.
    for (let k = 0; k < n; k++) {
      const i = Math.floor(rand() * forest.nodes);
      if (forest.feature[i] >= 0 && Number.isFinite(forest.threshold[i])) x[k * WIDTH + forest.feature[i]] = Math.fround(forest.threshold[i]);
    }
    const margins = new Float64Array(n);
    forest.addMargins(x, n, WIDTH, margins);
    const leaves = Array.from({ length: forest.trees }, () => new Int32Array(n));
    forest.leaves(x, n, WIDTH, leaves);
    for (let r = 0; r < n; r++) {
      let m = 0;
      for (let t = 0; t < forest.trees; t++) {
        const leaf = reference(forest, x, r, t);
        m += forest.value[leaf];
        expect(leaves[t][r]).toBe(forest.leaf[leaf] + 1);
      }
      expect(margins[r]).toBe(m);
    }
  });

  it('scores margins and leaves with compiled code bit for bit as the walk, NaN thresholds included, and walks trees too deep to compile', () => {
    const forest = randomForest(60, 4);
    // Splits on a NaN threshold (no training makes one): compiled code must still follow the walk.
    for (const [k, side] of [[0, true], [1, false]] as const) {
      const i = forest.roots[k];
      if (forest.feature[i] >= 0) forest.setSplit(i, forest.feature[i], 0, NaN, side, forest.left[i], forest.right[i]);
    }
    const rand = seededRandom(5);
    const n = 57;
    const x = Float32Array.from({ length: n * WIDTH }, () => (rand() < 0.15 ? NaN : Math.fround(rand() * 12 - 6)));
    expect(compileMargins(forest)).not.toBeNull();
    expect(compileLeaves(forest)).not.toBeNull();
    const margins = new Float64Array(n).fill(-0.25);
    forest.addMargins(x, n, WIDTH, margins);
    const leaves = Array.from({ length: forest.trees }, () => new Int32Array(n));
    forest.leaves(x, n, WIDTH, leaves);
    const walked = new Float64Array(n).fill(-0.25);
    const scorer = new ForestScorer(forest);
    const at = new Int32Array(n);
    for (let t = 0; t < forest.trees; t++) {
      scorer.walk(forest.roots[t], x, n, WIDTH, at);
      for (let r = 0; r < n; r++) walked[r] += forest.value[at[r]];
      expect(Array.from(leaves[t])).toEqual(Array.from(at, (i) => forest.leaf[i] + 1));
    }
    expect(Array.from(margins)).toEqual(Array.from(walked));

    const deep = new Forest();
    let node = deep.startTree();
    for (let d = 0; d < 300; d++) {
      const [l, r] = [deep.addNode(), deep.addNode()];
      deep.value[l] = d;
      deep.setSplit(node, d % WIDTH, 0, 0.5, d % 2 === 0, l, r);
      node = r;
    }
    deep.value[node] = -1;
    deep.finishTree();
    expect(compileMargins(deep)).toBeNull();
    expect(compileLeaves(deep)).toBeNull();
    const deepMargins = new Float64Array(n);
    deep.addMargins(x, n, WIDTH, deepMargins);
    const deepLeaves = [new Int32Array(n)];
    deep.leaves(x, n, WIDTH, deepLeaves);
    for (let r = 0; r < n; r++) {
      expect(deepMargins[r]).toBe(deep.value[reference(deep, x, r, 0)]);
      expect(deepLeaves[0][r]).toBe(deep.leaf[reference(deep, x, r, 0)] + 1);
    }
  });

  it('round-trips through tensors and refuses trees that point outside themselves', () => {
    const forest = randomForest(5, 3);
    const tensors = forest.toTensors();
    const loaded = Forest.fromTensors(tensors, WIDTH);
    expect(loaded.toTensors()).toEqual(tensors);
    expect(Array.from(loaded.leaf.subarray(0, loaded.nodes))).toEqual(Array.from(forest.leaf.subarray(0, forest.nodes)));
    const bad = { ...tensors, 'tree.left': tensors['tree.left'].map((v, i) => (i === 0 ? 0 : v)) };
    expect(() => Forest.fromTensors(bad, WIDTH)).toThrow(/points outside its tree/);
    expect(() => Forest.fromTensors(tensors, 2)).toThrow(/PCTR|outside its tree or features/);
  });
});
