/**
 * Categorical fields become two numbers a tree can split: how often the value occurred in the
 * training slice (its count) and its smoothed click rate, (clicks + m·prior) / (count + m). Both
 * come from the training slice only. A training row's click rate is out-of-fold: rows fall into K
 * seeded folds and each row's rate counts only the other folds, so no row sees its own label (a
 * plain target mean leaks it and the trees overfit to it). Prediction uses the whole slice's
 * statistics. Values seen fewer than `minCount` times are pooled with values never seen: count 0
 * and the pool's click rate, in training as at serving.
 */
import { Random } from '../../training/random.ts';

/** What prediction needs of one categorical field; stored in the artifact. */
export interface CategoryTable {
  /** Kept values, ascending. */
  readonly keys: Int32Array;
  readonly count: Float32Array;
  readonly ctr: Float32Array;
  /** Click rate of rare and unseen values. */
  readonly unseenCtr: number;
}

export interface CategoryFitOptions {
  readonly minCount: number;
  readonly smoothing: number;
  readonly folds: number;
  /** Click rate of the training slice. */
  readonly prior: number;
}

/** Open-addressing map from int32 keys to dense ids (0, 1, …) in insertion order. */
export class KeyIndex {
  private keys: Int32Array;
  /** id + 1 per slot; 0 = empty. */
  private ids: Int32Array;
  private shift: number;
  size = 0;

  constructor(expected: number) {
    let bits = 4;
    while (1 << bits < 2 * expected) bits++;
    this.shift = 32 - bits;
    this.keys = new Int32Array(1 << bits);
    this.ids = new Int32Array(1 << bits);
  }

  clear(): void {
    this.ids.fill(0);
    this.size = 0;
  }

  /** The key's id, adding it when new. */
  add(key: number): number {
    const mask = this.ids.length - 1;
    for (let s = Math.imul(key, 0x9e3779b1) >>> this.shift; ; s = (s + 1) & mask) {
      const id = this.ids[s];
      if (id === 0) {
        this.keys[s] = key;
        this.ids[s] = ++this.size;
        return this.size - 1;
      }
      if (this.keys[s] === key) return id - 1;
    }
  }

  /** The key's id, or −1. */
  get(key: number): number {
    const mask = this.ids.length - 1;
    for (let s = Math.imul(key, 0x9e3779b1) >>> this.shift; ; s = (s + 1) & mask) {
      const id = this.ids[s];
      if (id === 0) return -1;
      if (this.keys[s] === key) return id - 1;
    }
  }
}

/** Seeded fold of every training row. */
export function assignFolds(n: number, folds: number, seed: number): Uint8Array {
  const random = new Random(seed ^ 0x51ed270b);
  const out = new Uint8Array(n);
  for (let r = 0; r < n; r++) out[r] = Math.floor(random.next() * folds);
  return out;
}

function rate(clicks: number, count: number, o: CategoryFitOptions): number {
  const d = count + o.smoothing;
  return d > 0 ? (clicks + o.smoothing * o.prior) / d : o.prior;
}

/**
 * Fits one field's table on training rows and writes their features: `count` (full slice) and
 * `ctr` (out-of-fold). `index` is scratch, reused across fields.
 */
export function fitCategoryField(
  column: Int32Array,
  labels: Uint8Array,
  n: number,
  folds: Uint8Array,
  o: CategoryFitOptions,
  index: KeyIndex,
  out: { count: Float32Array; ctr: Float32Array },
): CategoryTable {
  const k = o.folds;
  index.clear();
  const rowId = new Int32Array(n);
  const keyOf = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    const id = index.add(column[r]);
    rowId[r] = id;
    keyOf[id] = column[r];
  }
  const d = index.size;
  const foldCount = new Int32Array(d * k);
  const foldClicks = new Int32Array(d * k);
  for (let r = 0; r < n; r++) {
    const c = rowId[r] * k + folds[r];
    foldCount[c]++;
    foldClicks[c] += labels[r];
  }
  const total = new Int32Array(d);
  const clicks = new Int32Array(d);
  // Rare values pooled per fold, in the last k entries.
  const rareCount = new Int32Array(k);
  const rareClicks = new Int32Array(k);
  let kept = 0;
  for (let id = 0; id < d; id++) {
    for (let f = 0; f < k; f++) {
      total[id] += foldCount[id * k + f];
      clicks[id] += foldClicks[id * k + f];
    }
    if (total[id] >= o.minCount) {
      kept++;
      continue;
    }
    for (let f = 0; f < k; f++) {
      rareCount[f] += foldCount[id * k + f];
      rareClicks[f] += foldClicks[id * k + f];
    }
  }
  let rareTotal = 0;
  let rareTotalClicks = 0;
  for (let f = 0; f < k; f++) {
    rareTotal += rareCount[f];
    rareTotalClicks += rareClicks[f];
  }
  for (let r = 0; r < n; r++) {
    const id = rowId[r];
    const f = folds[r];
    if (total[id] >= o.minCount) {
      out.count[r] = total[id];
      out.ctr[r] = rate(clicks[id] - foldClicks[id * k + f], total[id] - foldCount[id * k + f], o);
    } else {
      out.count[r] = 0;
      out.ctr[r] = rate(rareTotalClicks - rareClicks[f], rareTotal - rareCount[f], o);
    }
  }
  const keys = new Int32Array(kept);
  for (let id = 0, j = 0; id < d; id++) if (total[id] >= o.minCount) keys[j++] = keyOf[id];
  return tableFrom(keys.sort(), index, total, clicks, o, rate(rareTotalClicks, rareTotal, o));
}

function tableFrom(keys: Int32Array, index: KeyIndex, total: Int32Array, clicks: Int32Array, o: CategoryFitOptions, unseenCtr: number): CategoryTable {
  const count = new Float32Array(keys.length);
  const ctr = new Float32Array(keys.length);
  for (let j = 0; j < keys.length; j++) {
    const id = index.get(keys[j]);
    count[j] = total[id];
    ctr[j] = rate(clicks[id], total[id], o);
  }
  return { keys, count, ctr, unseenCtr: Math.fround(unseenCtr) };
}

/** Serving-side lookup of a field's table: value → (count, ctr), unseen → (0, unseenCtr). */
export class CategoryLookup {
  private readonly index: KeyIndex;

  constructor(readonly table: CategoryTable) {
    this.index = new KeyIndex(table.keys.length);
    for (let j = 0; j < table.keys.length; j++) this.index.add(table.keys[j]);
  }

  /** Writes the features of `column[0..n)` at out[offset + r·stride] (count) and the next slot (ctr). */
  write(column: Int32Array, n: number, out: Float32Array, offset: number, stride: number): void {
    const { count, ctr, unseenCtr } = this.table;
    for (let r = 0, o = offset; r < n; r++, o += stride) {
      const j = this.index.get(column[r]);
      out[o] = j < 0 ? 0 : count[j];
      out[o + 1] = j < 0 ? unseenCtr : ctr[j];
    }
  }
}
