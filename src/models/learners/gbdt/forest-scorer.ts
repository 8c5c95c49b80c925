/**
 * Scoring a batch on the forest: the trees re-laid out for speed (see ForestScorer), built from a
 * Forest when it is first scored. Kept apart from tree.ts, which owns the forest's stored form.
 */

/** The largest float32 ≤ v: for float32 x, x ≤ v exactly when x ≤ floor32(v). */
const f32 = new Float32Array(1);
const f32Bits = new Int32Array(f32.buffer);
function floor32(v: number): number {
  f32[0] = v;
  if (f32[0] <= v) return f32[0];
  f32Bits[0] += f32[0] > 0 ? -1 : f32[0] < 0 ? 1 : 0;
  if (f32[0] === 0) f32Bits[0] = 0x80000001 | 0;
  return f32[0];
}

/**
 * The forest laid out for scoring: per node one record [feature (−1: leaf), left, right, missing
 * child] and a float32 threshold (rounded down, exact for float32 features). A row's next node is
 * record[4i + 1 + (v > t) + 2·(v is NaN)], with no branch on the (unpredictable) comparison, and
 * four rows walk a tree together so their chains of dependent loads overlap; trees are the outer
 * loop so each tree's nodes stay in cache across the batch. Measured on a 300-tree model: 1.6×
 * faster than walking one row through every tree.
 */
/** What the scorer reads of a forest (tree.ts's Forest). */
export interface ForestNodes {
  readonly nodes: number;
  readonly feature: Int32Array;
  readonly threshold: Float64Array;
  readonly left: Int32Array;
  readonly right: Int32Array;
  readonly missingLeft: Uint8Array;
}

export class ForestScorer {
  readonly nodes: number;
  readonly record: Int32Array;
  readonly threshold: Float32Array;

  constructor(f: ForestNodes) {
    this.nodes = f.nodes;
    this.record = new Int32Array(4 * f.nodes);
    this.threshold = new Float32Array(f.nodes);
    for (let i = 0; i < f.nodes; i++) {
      const o = 4 * i;
      this.record[o] = f.feature[i];
      if (f.feature[i] < 0) continue;
      this.record[o + 1] = f.left[i];
      this.record[o + 2] = f.right[i];
      this.record[o + 3] = f.missingLeft[i] ? f.left[i] : f.right[i];
      this.threshold[i] = floor32(f.threshold[i]);
    }
  }

  /** Leaves of the tree rooted at `root` reached by rows 0..n−1 of x (row-major, `width` per row), into at[0..n). */
  walk(root: number, x: Float32Array, n: number, width: number, at: Int32Array): void {
    const rec = this.record;
    const th = this.threshold;
    const start = rec[4 * root];
    let r = 0;
    for (let base = 0; r + 4 <= n; r += 4, base += 4 * width) {
      let i0 = root;
      let i1 = root;
      let i2 = root;
      let i3 = root;
      let f0 = start;
      let f1 = start;
      let f2 = start;
      let f3 = start;
      while (f0 >= 0 || f1 >= 0 || f2 >= 0 || f3 >= 0) {
        if (f0 >= 0) {
          const v = x[base + f0];
          i0 = rec[4 * i0 + 1 + +(v > th[i0]) + 2 * +(v !== v)];
          f0 = rec[4 * i0];
        }
        if (f1 >= 0) {
          const v = x[base + width + f1];
          i1 = rec[4 * i1 + 1 + +(v > th[i1]) + 2 * +(v !== v)];
          f1 = rec[4 * i1];
        }
        if (f2 >= 0) {
          const v = x[base + 2 * width + f2];
          i2 = rec[4 * i2 + 1 + +(v > th[i2]) + 2 * +(v !== v)];
          f2 = rec[4 * i2];
        }
        if (f3 >= 0) {
          const v = x[base + 3 * width + f3];
          i3 = rec[4 * i3 + 1 + +(v > th[i3]) + 2 * +(v !== v)];
          f3 = rec[4 * i3];
        }
      }
      at[r] = i0;
      at[r + 1] = i1;
      at[r + 2] = i2;
      at[r + 3] = i3;
    }
    for (let base = r * width; r < n; r++, base += width) {
      let i = root;
      for (let f = start; f >= 0; f = rec[4 * i]) {
        const v = x[base + f];
        i = rec[4 * i + 1 + +(v > th[i]) + 2 * +(v !== v)];
      }
      at[r] = i;
    }
  }
}

/** What forest code is compiled from: the nodes, the trees' roots, the leaf values and numbers. */
export interface ForestModel extends ForestNodes {
  readonly trees: number;
  readonly roots: Int32Array;
  readonly value: Float64Array;
  /** Each leaf's number within its tree. */
  readonly leaf: Int32Array;
}

/** Adds every tree's leaf value for rows 0..n−1 of x (row-major, `width` per row) to margins. */
export type MarginKernel = (x: Float32Array, n: number, width: number, margins: Float64Array) => void;
/** Writes the leaf reached in tree t by row r of x as out[t][r] = its number + 1 (GBDT+LR's features). */
export type LeafKernel = (x: Float32Array, n: number, width: number, out: readonly Int32Array[]) => void;

/** Nodes per generated function: V8 stops optimizing functions whose bytecode passes ~60 KB. */
const NODES_PER_FUNCTION = 1500;
/** Deeper trees are left to ForestScorer: nested code that deep strains the parser's stack. */
const MAX_CODE_DEPTH = 200;

/**
 * The forest compiled to JavaScript, one nested `if` per split with the feature offset and the
 * float32 threshold as literals, so V8 scores a row without loading any node; the subtrees at the
 * bottom (≤ TABLE_SPLITS splits) are evaluated without branches (see tableCode). Measured on a
 * 283-tree model, 100 rows: nested `if`s alone 0.23 ms against 0.85 ms for ForestScorer.walk. The code holds only
 * numbers formatted from typed arrays (integers and round-tripping doubles), never artifact text.
 * Each row adds its trees' values in tree order, as the walk does, so margins are bit-identical.
 * Returns null when the forest is too deep to emit or the runtime forbids code from strings
 * (node --disallow-code-generation-from-strings); callers then walk.
 */
export function compileMargins(f: ForestModel): MarginKernel | null {
  return compileForest<Float64Array>(f, 'margins', {
    value: (i) => f.value[i],
    literal,
    table: (values) => Float64Array.from(values),
    apply: (expr) => `margins[r] += ${expr};`,
  });
}

/** The forest compiled as compileMargins does, writing each tree's leaf number + 1 (GBDT+LR scores through these). */
export function compileLeaves(f: ForestModel): LeafKernel | null {
  return compileForest<readonly Int32Array[]>(f, 'out', {
    value: (i) => f.leaf[i] + 1,
    literal: String,
    table: (values) => Int32Array.from(values),
    before: (t) => `const o = out[${t}];`,
    apply: (expr) => `o[r] = ${expr};`,
  });
}

/** How a kernel uses the leaf a row reaches. */
interface LeafRules {
  /** The number leaf node i stands for (its value, or its number + 1). */
  readonly value: (i: number) => number;
  readonly literal: (v: number) => string;
  /** The typed array small subtrees' leaves are looked up in (values in table order). */
  readonly table: (values: readonly number[]) => Float64Array | Int32Array;
  /** Code before tree t's loop over the rows (in a block of its own). */
  readonly before?: (tree: number) => string;
  /** Code using `expr` (a leaf's number) for row r of tree t. */
  readonly apply: (expr: string, tree: number) => string;
}

/**
 * Trees into functions of ≤ NODES_PER_FUNCTION nodes, each tree its own loop over the rows, so one
 * tree's code stays in the instruction cache for the whole batch: looping rows outside, every row
 * ran through all the forest's code (~0.5 MB of machine code for 300 trees of 31 leaves). Null
 * where it cannot compile.
 */
function compileForest<T>(f: ForestModel, outName: string, rules: LeafRules): ((x: Float32Array, n: number, width: number, out: T) => void) | null {
  type Kernel = (x: Float32Array, n: number, width: number, out: T) => void;
  const parts: string[] = [];
  const table: number[] = [];
  let body: string[] = [];
  let nodes = 0;
  const flush = () => {
    if (body.length === 0) return;
    parts.push(body.join('\n'));
    [body, nodes] = [[], 0];
  };
  for (let t = 0; t < f.trees; t++) {
    const code = treeCode(f, f.roots[t], 0, { ...rules, apply: (expr) => rules.apply(expr, t) }, table);
    if (code === null) return null;
    body.push(`{\n${rules.before?.(t) ?? ''}\nfor (let r = 0, b = 0; r < n; r++, b += width) {\n${code}\n}\n}`);
    nodes += f.roots[t + 1] - f.roots[t];
    if (nodes >= NODES_PER_FUNCTION) flush();
  }
  flush();
  let kernels: Kernel[];
  try {
    const leaves = rules.table(table);
    kernels = parts.map((source) => new Function('L', `return function (x, n, width, ${outName}) {\n${source}\n};`)(leaves) as Kernel);
  } catch {
    return null;
  }
  return (x, n, width, out) => {
    for (let k = 0; k < kernels.length; k++) kernels[k](x, n, width, out);
  };
}

/** A double as a literal that reads back to the same bits (−0 included). */
function literal(v: number): string {
  return Object.is(v, -0) ? '-0' : String(v);
}

/** Splits in the subtree at i, or Infinity once above `limit` or at a NaN threshold (those stay branches). */
function splitsUpTo(f: ForestNodes, i: number, limit: number): number {
  if (f.feature[i] < 0) return 0;
  if (limit <= 0 || Number.isNaN(floor32(f.threshold[i]))) return Infinity;
  const left = splitsUpTo(f, f.left[i], limit - 1);
  return 1 + left + splitsUpTo(f, f.right[i], limit - 1 - left);
}

/**
 * Subtrees of at most this many splits are evaluated without branches: a row's way down a tree is
 * unpredictable, so each `if` mispredicts about every other row (~15 cycles); computing every test of
 * a small subtree and looking its leaf up in a table of 2^splits entries is cheaper than the branches
 * it replaces. 300 trees of 31 leaves (the zoo's GBDT on 900k generated rows), 100 rows: 0.62 ms
 * all branches; at most 2, 3, 5, 8, 9, 11, 13 splits per table: 0.47, 0.41, 0.33, 0.24, 0.25, 0.28,
 * 0.32 ms (tables of 108k entries at 8; larger ones spill out of the cache).
 */
const TABLE_SPLITS = 8;
/** Table entries per forest at most (8 MB of doubles); subtrees past it stay branches. */
const MAX_TABLE_ENTRIES = 1 << 20;

/**
 * Code applying the leaf of the subtree at `i` a row reaches, with the walk's rule: right when
 * v > threshold, missing to its child. Small subtrees go to tableCode, the rest are nested `if`s.
 */
function treeCode(f: ForestModel, i: number, depth: number, rules: Omit<LeafRules, 'apply'> & { apply: (expr: string) => string }, table: number[]): string | null {
  if (f.feature[i] < 0) return rules.apply(rules.literal(rules.value(i)));
  if (depth >= MAX_CODE_DEPTH) return null;
  const splits = splitsUpTo(f, i, TABLE_SPLITS);
  if (splits <= TABLE_SPLITS && table.length + (1 << splits) <= MAX_TABLE_ENTRIES) return rules.apply(tableCode(f, i, rules.value, table));
  const left = treeCode(f, f.left[i], depth + 1, rules, table);
  const right = treeCode(f, f.right[i], depth + 1, rules, table);
  if (left === null || right === null) return null;
  const v = `x[b + ${f.feature[i] | 0}]`;
  const t = floor32(f.threshold[i]);
  if (Number.isNaN(t)) return f.missingLeft[i] ? left : `if (${v} === ${v}) {\n${left}\n} else {\n${right}\n}`;
  // NaN fails both comparisons, so it takes the else branch: the left child, or the right.
  return f.missingLeft[i] ? `if (${v} > ${literal(t)}) {\n${right}\n} else {\n${left}\n}` : `if (${v} <= ${literal(t)}) {\n${left}\n} else {\n${right}\n}`;
}

/**
 * The subtree at `i` without branches: every split's "goes right" bit (missing to its side) is
 * computed, the bits form an index, and L[base + index] (appended to `table` for every combination of
 * bits) is the leaf those answers reach. An expression.
 */
function tableCode(f: ForestNodes, i: number, value: (leaf: number) => number, table: number[]): string {
  const splits: number[] = [];
  const collect = (j: number): void => {
    if (f.feature[j] < 0) return;
    splits.push(j);
    collect(f.left[j]);
    collect(f.right[j]);
  };
  collect(i);
  const base = table.length;
  for (let bits = 0; bits < 1 << splits.length; bits++) {
    let j = i;
    while (f.feature[j] >= 0) j = (bits >> splits.indexOf(j)) & 1 ? f.right[j] : f.left[j];
    table.push(value(j));
  }
  const terms = splits.map((j, k) => {
    const v = `x[b + ${f.feature[j] | 0}]`;
    const t = literal(floor32(f.threshold[j]));
    // Right when v > t; NaN compares false both ways, so it goes right only where missing goes right.
    const right = f.missingLeft[j] ? `(${v} > ${t})` : `((${v} <= ${t}) ^ 1)`;
    return k === 0 ? `${right}` : `(${right} << ${k})`;
  });
  return `L[${base} + (${terms.join(' | ')})]`;
}
