/**
 * The ranking hot path, one named step each, as in the design's diagram:
 *   fetch features (one batched online-store read: user, every ad, campaign, user×category)
 *   → assemble columns (reused typed arrays) → score every candidate in one call (the model
 *   calibrates) → eCPM = pCTR × bid → rules (minimum pCTR, one ad per campaign) and top-k
 *   → log each served ad as an impression (async, batched; never awaited).
 * The only await is the feature read (plus the score for an asynchronous model); there is no
 * per-candidate await or closure. The store reads each request's entities into a float32 slab (no
 * record per entity) from a pool of slabs, one per request in flight; the other buffers come from a
 * small pool too: a request takes a set after its read and, for a synchronous model, returns it
 * before yielding, so one set serves all requests.
 */
import { IdGenerator, TOPICS, systemClock, type Clock, type RawBatch } from '../core/index.ts';
import { DEFAULT_CTR_PRIOR, LAYOUT_WIDTH, ServedBatchWriter, entityRefs, type CtrPrior } from '../features/index.ts';
import type { FeatureReader } from './feature-reader.ts';
import { ImpressionText, round9, type LoggedRequest } from './impression-text.ts';
import type { ServingMetrics } from './metrics.ts';
import type { ModelRoute } from './model-holder.ts';
import type { PredictionLogger } from './prediction-logger.ts';
import type { RankedAd } from './schemas.ts';
import { isAsyncModel } from '../models/index.ts';
import type { ServedModel } from './served-model.ts';
import { TopKSelector } from './top-k.ts';

/** What rank() takes: a validated rank request (k defaults to 10, requestId and ts are generated). */
export interface RankInput extends LoggedRequest {
  readonly requestId?: string;
  readonly ts?: number;
  readonly k?: number;
}

export interface RankResult {
  readonly requestId: string;
  readonly modelVersion: string;
  readonly ads: RankedAd[];
  /** True when the feature read failed and every aggregate was the prior. */
  readonly degraded: boolean;
  /** `name@version` that scored in the shadow, when shadow scoring ran. */
  readonly shadowModelVersion?: string;
}

/** Picks the model(s) for a user: the ModelHolder, or anything routing the same way. */
export interface ModelRouter {
  route(userId: string): ModelRoute;
}

export interface RankerOptions {
  readonly holder: ModelRouter;
  readonly features: FeatureReader;
  /** Where impressions are queued; omit to rank without logging (benchmarks, inspection). */
  readonly log?: PredictionLogger;
  /** Business rule: candidates below this pCTR are not served. */
  readonly minPctr?: number;
  readonly prior?: CtrPrior;
  readonly clock?: Clock;
  readonly ids?: IdGenerator;
  readonly metrics?: ServingMetrics;
}

const DEFAULT_K = 10;

/** The per-request working set: columns, scores, eCPM and the chosen indices. */
class Buffers {
  readonly writer: ServedBatchWriter;
  readonly text: ImpressionText;
  pCTR = new Float32Array(256);
  shadow = new Float32Array(256);
  eCPM = new Float64Array(256);
  chosen = new Int32Array(256);

  constructor(prior: CtrPrior) {
    this.writer = new ServedBatchWriter({ capacity: 256, prior });
    this.text = new ImpressionText(prior);
  }

  ensure(n: number): void {
    if (this.pCTR.length >= n) return;
    const cap = Math.max(n, this.pCTR.length * 2);
    this.pCTR = new Float32Array(cap);
    this.shadow = new Float32Array(cap);
    this.eCPM = new Float64Array(cap);
    this.chosen = new Int32Array(cap);
  }
}

export class Ranker {
  private readonly holder: ModelRouter;
  private readonly features: FeatureReader;
  private readonly log: PredictionLogger | undefined;
  private readonly minPctr: number;
  private readonly prior: CtrPrior;
  private readonly clock: Clock;
  private readonly ids: IdGenerator;
  private readonly metrics: ServingMetrics | undefined;
  private readonly pool: Buffers[] = [];
  /** Slabs the store reads into: LAYOUT_WIDTH values per ref, NaN where the store has none. */
  private readonly slabs: Float32Array[] = [];
  private readonly topK = new TopKSelector();

  constructor(opts: RankerOptions) {
    this.holder = opts.holder;
    this.features = opts.features;
    this.log = opts.log;
    this.minPctr = opts.minPctr ?? 0;
    this.prior = opts.prior ?? DEFAULT_CTR_PRIOR;
    this.clock = opts.clock ?? systemClock;
    this.ids = opts.ids ?? new IdGenerator();
    this.metrics = opts.metrics;
  }

  async rank(request: RankInput): Promise<RankResult> {
    const t0 = performance.now();
    const requestId = request.requestId ?? this.ids.next();
    const ts = request.ts ?? this.clock.now();
    const n = request.candidates.length;
    const entities = entityRefs(request);
    let slab = this.slabs.pop() ?? new Float32Array(256 * LAYOUT_WIDTH);
    if (slab.length < entities.refs.length * LAYOUT_WIDTH) slab = new Float32Array(entities.refs.length * LAYOUT_WIDTH * 2);
    let buf: Buffers | undefined;
    try {
      const packed = (await this.features.readPacked(entities.refs, slab)) ? slab : null;
      const route = this.holder.route(request.userId);
      buf = this.pool.pop() ?? new Buffers(this.prior);
      buf.ensure(n);
      const batch = buf.writer.writePacked(request, entities, packed);
      const scoring = this.score(route.served, batch, buf.pCTR);
      if (scoring !== undefined) await scoring;
      if (route.shadow !== null) {
        const shadowScoring = this.score(route.shadow, batch, buf.shadow);
        if (shadowScoring !== undefined) await shadowScoring;
      }
      const count = this.order(request, entities.campaign, entities.refs.length, buf);
      const ads = this.serve(request, count, buf);
      buf.text.begin(request, requestId, ts, entities, packed);
      this.logServed(requestId, ts, ads, route.served, route.shadow, buf);
      const m = this.metrics;
      if (m !== undefined) {
        m.candidatesScored.inc(n);
        if (count > 0) m.impressionsServed.inc({ model_version: route.served.label }, count);
        m.rankDuration.observe((performance.now() - t0) / 1000);
      }
      const result: RankResult = { requestId, modelVersion: route.served.label, ads, degraded: packed === null };
      return route.shadow === null ? result : { ...result, shadowModelVersion: route.shadow.label };
    } finally {
      if (buf !== undefined) this.pool.push(buf);
      this.slabs.push(slab);
    }
  }

  /** Score: every candidate in one call (the model calibrates); a promise only for an asynchronous model. */
  private score(m: ServedModel, batch: RawBatch, out: Float32Array): Promise<void> | undefined {
    const scorer = m.model;
    if (isAsyncModel(scorer)) return scorer.predictAsync(batch, out);
    scorer.predict(batch, out);
    return undefined;
  }

  /** eCPM = pCTR × bid, then the rules and top-k; returns how many ads are served. */
  private order(request: RankInput, campaignOf: Int32Array, groups: number, buf: Buffers): number {
    const n = request.candidates.length;
    const { pCTR, eCPM } = buf;
    for (let i = 0; i < n; i++) eCPM[i] = pCTR[i] * request.candidates[i].bid;
    const k = Math.min(request.k ?? DEFAULT_K, n);
    return this.topK.select({ n, eCPM, pCTR, minPctr: this.minPctr, group: campaignOf, groups, k }, buf.chosen);
  }

  /** The served ads, best first, each with the impression id its click will carry. */
  private serve(request: RankInput, count: number, buf: Buffers): RankedAd[] {
    const ads = new Array<RankedAd>(count);
    for (let position = 0; position < count; position++) {
      const i = buf.chosen[position];
      const c = request.candidates[i];
      ads[position] = { adId: c.adId, campaignId: c.campaignId, impressionId: this.ids.next(), position, pCTR: round9(buf.pCTR[i]), eCPM: round9(buf.eCPM[i]) };
    }
    return ads;
  }

  /** Log: queue each served ad's impression (and shadow score); the request never waits for the log. */
  private logServed(requestId: string, ts: number, ads: readonly RankedAd[], served: ServedModel, shadow: ServedModel | null, buf: Buffers): void {
    const log = this.log;
    if (log === undefined) return;
    const label = JSON.stringify(served.label);
    for (let position = 0; position < ads.length; position++) {
      const i = buf.chosen[position];
      const ad = ads[position];
      log.enqueue(TOPICS.impressions, ad.impressionId, buf.text.impression(i, ad.impressionId, position, buf.pCTR[i], label));
      if (shadow !== null) {
        const text = buf.text.shadow(ad.impressionId, requestId, ts, { label: served.label, pCTR: buf.pCTR[i] }, { label: shadow.label, pCTR: buf.shadow[i] });
        log.enqueue(TOPICS.shadowScores, ad.impressionId, text);
      }
    }
  }
}
