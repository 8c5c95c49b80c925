/**
 * Online quality of what was served, against the simulator's oracle: the last N impressions'
 * served pCTR, true CTR and outcome in ring buffers, and on demand AUC, logloss and calibration of
 * the served pCTR and of the oracle over the same impressions. The outcome is the one the
 * simulator decided when the ad was served (a click at whatever delay, late ones included), which
 * is what the oracle's true CTR is the probability of; the join's labels (clicks inside the
 * attribution window) may differ for the ~1.5 % of clicks that arrive late.
 */
import { auc, logloss } from '../models/index.ts';

export interface WindowMetrics {
  /** Impressions in the window (≤ its size). */
  readonly impressions: number;
  readonly clicks: number;
  readonly ctr: number;
  readonly meanPctr: number;
  readonly meanOracle: number;
  /** AUC of the served pCTR / of the oracle's true CTR (NaN while the window holds one class). */
  readonly servedAuc: number;
  readonly oracleAuc: number;
  readonly servedLogloss: number;
  readonly oracleLogloss: number;
  /** Mean served pCTR ÷ observed CTR (1 = calibrated on average; NaN without clicks). */
  readonly calibration: number;
}

export class ServedWindow {
  private readonly served: Float64Array;
  private readonly oracle: Float64Array;
  private readonly clicked: Uint8Array;
  private next = 0;
  private filled = 0;
  /** Scratch copies for a window's tail, so metrics over the last m never allocate per call once grown. */
  private scratch = { served: new Float64Array(0), oracle: new Float64Array(0), clicked: new Uint8Array(0) };

  constructor(readonly size = 50_000) {
    if (!(Number.isInteger(size) && size >= 1)) throw new RangeError(`window size must be an integer ≥ 1, got ${size}`);
    this.served = new Float64Array(size);
    this.oracle = new Float64Array(size);
    this.clicked = new Uint8Array(size);
  }

  get length(): number {
    return this.filled;
  }

  record(servedPctr: number, trueCtr: number, clicked: boolean): void {
    const i = this.next;
    this.served[i] = servedPctr;
    this.oracle[i] = trueCtr;
    this.clicked[i] = clicked ? 1 : 0;
    this.next = i + 1 === this.size ? 0 : i + 1;
    if (this.filled < this.size) this.filled++;
  }

  /** Metrics over the last `last` impressions (default: the whole window). */
  metrics(last = this.size): WindowMetrics {
    const m = Math.min(last, this.filled);
    const { served, oracle, clicked } = m === this.filled && this.filled < this.size ? this.head(m) : this.tail(m);
    let clicks = 0;
    let sumServed = 0;
    let sumOracle = 0;
    for (let i = 0; i < m; i++) {
      clicks += clicked[i];
      sumServed += served[i];
      sumOracle += oracle[i];
    }
    const ctr = m > 0 ? clicks / m : NaN;
    return {
      impressions: m,
      clicks,
      ctr,
      meanPctr: m > 0 ? sumServed / m : NaN,
      meanOracle: m > 0 ? sumOracle / m : NaN,
      servedAuc: auc(served, clicked, m),
      oracleAuc: auc(oracle, clicked, m),
      servedLogloss: m > 0 ? logloss(served, clicked, m) : NaN,
      oracleLogloss: m > 0 ? logloss(oracle, clicked, m) : NaN,
      calibration: clicks > 0 ? sumServed / m / ctr : NaN,
    };
  }

  /** The first m slots as views (the ring has not wrapped yet). */
  private head(m: number) {
    return { served: this.served.subarray(0, m), oracle: this.oracle.subarray(0, m), clicked: this.clicked.subarray(0, m) };
  }

  /** The last m records, copied out of the ring into scratch arrays. */
  private tail(m: number) {
    if (this.scratch.served.length < m) {
      this.scratch = { served: new Float64Array(this.size), oracle: new Float64Array(this.size), clicked: new Uint8Array(this.size) };
    }
    const s = this.scratch;
    let from = this.next - m;
    if (from < 0) from += this.size;
    const firstPart = Math.min(m, this.size - from);
    s.served.set(this.served.subarray(from, from + firstPart));
    s.oracle.set(this.oracle.subarray(from, from + firstPart));
    s.clicked.set(this.clicked.subarray(from, from + firstPart));
    if (firstPart < m) {
      s.served.set(this.served.subarray(0, m - firstPart), firstPart);
      s.oracle.set(this.oracle.subarray(0, m - firstPart), firstPart);
      s.clicked.set(this.clicked.subarray(0, m - firstPart), firstPart);
    }
    return { served: s.served.subarray(0, m), oracle: s.oracle.subarray(0, m), clicked: s.clicked.subarray(0, m) };
  }
}
