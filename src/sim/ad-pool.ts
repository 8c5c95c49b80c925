/**
 * Every ad the market ever created, in growable typed arrays indexed by ad number, plus the live
 * ads as dense lists (all, and per category) for O(1) sampling and O(1) retirement (swap-remove).
 * Retired ads keep their row so late outcomes for them can still be computed.
 */
export class AdPool {
  /** Ads created so far; ad numbers are 0..count-1. */
  count = 0;
  campaign: Int32Array;
  category: Int32Array;
  /** Quality (logit) at birth. */
  quality: Float32Array;
  /** Birth time relative to the market's start (ms; negative for ads live before the start). */
  bornAt: Float64Array;
  /** Live ad numbers, in no particular order. */
  readonly live: number[] = [];
  /** Live ad numbers per category. */
  readonly byCategory: number[][];
  private livePos: Int32Array;
  private catPos: Int32Array;

  constructor(categories: number, capacity: number) {
    const cap = Math.max(16, capacity);
    this.campaign = new Int32Array(cap);
    this.category = new Int32Array(cap);
    this.quality = new Float32Array(cap);
    this.bornAt = new Float64Array(cap);
    this.livePos = new Int32Array(cap).fill(-1);
    this.catPos = new Int32Array(cap).fill(-1);
    this.byCategory = Array.from({ length: categories }, () => []);
  }

  add(campaign: number, category: number, quality: number, bornAt: number): number {
    if (this.count === this.campaign.length) this.grow();
    const ad = this.count++;
    this.campaign[ad] = campaign;
    this.category[ad] = category;
    this.quality[ad] = quality;
    this.bornAt[ad] = bornAt;
    this.livePos[ad] = this.live.length;
    this.live.push(ad);
    const list = this.byCategory[category];
    this.catPos[ad] = list.length;
    list.push(ad);
    return ad;
  }

  isLive(ad: number): boolean {
    return ad >= 0 && ad < this.count && this.livePos[ad] >= 0;
  }

  retire(ad: number): void {
    if (!this.isLive(ad)) return;
    swapRemove(this.live, this.livePos, this.livePos[ad]);
    this.livePos[ad] = -1;
    swapRemove(this.byCategory[this.category[ad]], this.catPos, this.catPos[ad]);
    this.catPos[ad] = -1;
  }

  private grow(): void {
    const cap = this.campaign.length * 2;
    const growI = (a: Int32Array, fill = 0) => {
      const b = new Int32Array(cap).fill(fill);
      b.set(a);
      return b;
    };
    this.campaign = growI(this.campaign);
    this.category = growI(this.category);
    this.livePos = growI(this.livePos, -1);
    this.catPos = growI(this.catPos, -1);
    const q = new Float32Array(cap);
    q.set(this.quality);
    this.quality = q;
    const b = new Float64Array(cap);
    b.set(this.bornAt);
    this.bornAt = b;
  }
}

/** Remove list[i] by moving the last element into its place, keeping the position index right. */
function swapRemove(list: number[], pos: Int32Array, i: number): void {
  const last = list.pop() as number;
  if (i < list.length) {
    list[i] = last;
    pos[last] = i;
  }
}
