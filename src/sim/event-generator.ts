/**
 * The direct event generator: impression and click events of the simulated market in event-time
 * order, with no gateway in the loop, for the join benchmark, crash tests and `pctr sim`.
 *
 * Requests arrive as a Poisson process at `ratePerSec / 2` (a request serves 1–4 ads, 2 on
 * average, at positions 0..n-1). Each impression carries the request-level served features, a
 * served `pCTR` (the oracle with logit noise, as if from a decent model), `modelVersion` and the
 * true CTR in `oracleCtr`. Clicks follow at the click-delay model's delays; some are duplicated,
 * some arrive after the attribution window, and a few name impressions that never existed.
 *
 * Hot loop: typed-array state, a typed-array heap of pending clicks, JSON text assembled from
 * cached fragments (it matches the zod schemas exactly; tests check), no per-event closure.
 */
import type { AppendRecord } from '../events/index.ts';
import type { Click, Impression } from '../core/index.ts';
import { ClickQueue } from './click-queue.ts';
import { parseGeneratorOptions, type GeneratorOptions, type GeneratorOptionsInput } from './generator-options.ts';
import { hourOf } from './ad-market.ts';
import { sigmoid } from './rng.ts';
import { buildWorld, type World } from './world.ts';

/** Events of one batch. Each list is in event-time order, and every event of a batch is at or before every event of the next one. */
export interface EventBatch<I, C> {
  readonly impressions: I[];
  readonly clicks: C[];
}

export interface GeneratorStats {
  impressions: number;
  requests: number;
  /** Click events emitted, of every kind. */
  clicks: number;
  /** First clicks of impressions (within or after the window). */
  firstClicks: number;
  /** First clicks after the attribution window. */
  lateClicks: number;
  /** Repeated clicks of an impression already clicked. */
  duplicateClicks: number;
  /** Clicks naming an impression that was never served. */
  unknownClicks: number;
  /** Sum of oracleCtr over impressions (mean = sum / impressions). */
  oracleCtrSum: number;
  /** Event time of the last event emitted. */
  lastTs: number;
}

const round7 = (x: number) => Math.max(1e-7, Math.round(x * 1e7) / 1e7);

export class EventGenerator {
  readonly stats: GeneratorStats = {
    impressions: 0,
    requests: 0,
    clicks: 0,
    firstClicks: 0,
    lateClicks: 0,
    duplicateClicks: 0,
    unknownClicks: 0,
    oracleCtrSum: 0,
    lastTs: 0,
  };
  readonly opts: GeneratorOptions;
  private readonly world: World;
  private readonly queue = new ClickQueue(4096);
  private readonly prefix: string;
  private readonly modelVersionJson: string;
  private readonly meanGapMs: number;
  private clock: number;
  private unknownSeq = 0;
  private readonly adJson: string[] = [];
  private readonly adFeatureJson: string[] = [];
  private readonly picked = new Int32Array(8);

  constructor(input: GeneratorOptionsInput) {
    this.opts = parseGeneratorOptions(input);
    this.world = buildWorld(this.opts);
    this.prefix = this.opts.idPrefix ?? `sim${this.opts.seed}.`;
    this.modelVersionJson = JSON.stringify(this.opts.modelVersion);
    this.clock = this.opts.startTs;
    // 2 impressions per request on average (SLOT_WEIGHTS in traffic.ts).
    this.meanGapMs = (2 * 1000) / this.opts.ratePerSec;
  }

  /** Whether every impression and click has been emitted. */
  get done(): boolean {
    return this.stats.impressions >= this.opts.impressions && this.queue.size === 0;
  }

  impressionId(n: number): string {
    return `${this.prefix}i${n.toString(36)}`;
  }

  /** The next batch as log records (`key` = impressionId, `value` = JSON text), or null when done. */
  nextRecords(): EventBatch<AppendRecord, AppendRecord> | null {
    return this.next(true) as EventBatch<AppendRecord, AppendRecord> | null;
  }

  /** The next batch as event objects, or null when done. */
  nextEvents(): EventBatch<Impression, Click> | null {
    return this.next(false) as EventBatch<Impression, Click> | null;
  }

  private next(json: boolean): EventBatch<unknown, unknown> | null {
    if (this.done) return null;
    const impressions: unknown[] = [];
    const clicks: unknown[] = [];
    const { batchSize, impressions: total } = this.opts;
    while (impressions.length < batchSize && this.stats.impressions < total) this.request(json, impressions, clicks);
    if (this.stats.impressions >= total) {
      // All impressions are out: drain the pending clicks, a batch at a time.
      while (this.queue.size > 0 && clicks.length < batchSize) this.emitClick(json, clicks);
    }
    return { impressions, clicks };
  }

  private request(json: boolean, impressions: unknown[], clicks: unknown[]): void {
    const { model, traffic, drift, names, trafficRng: rng } = this.world;
    const opts = this.opts;
    const stats = this.stats;
    this.clock += rng.exponential(this.meanGapMs);
    const ts = Math.floor(this.clock);
    while (this.queue.peekTs() <= ts) this.emitClick(json, clicks);
    const t = ts - opts.startTs;
    drift.advance(t);

    const user = traffic.user(rng);
    const device = traffic.device(rng);
    const site = traffic.site(rng);
    const hour = hourOf(ts);
    const slots = Math.min(traffic.slots(rng), opts.impressions - stats.impressions);
    const requestId = `${this.prefix}r${(stats.requests++).toString(36)}`;
    const userId = names.user(user);
    const deviceName = names.devices[device];
    const siteName = names.sites[site];
    const head = json ? `","requestId":"${requestId}","ts":${ts},"userId":"${userId}",` : '';
    const tail = json ? `,"ctx_hour":${hour},"ctx_device":"${deviceName}","ctx_site":"${siteName}"},"oracleCtr":` : '';
    const featureHead = json ? `,"modelVersion":${this.modelVersionJson},"features":{"user_id":"${userId}",` : '';

    for (let position = 0; position < slots; position++) {
      const ad = this.pickAd(user, position);
      const z = model.intercept + model.offset(user, ad, hour, device, site, position, t);
      const oracle = round7(sigmoid(z));
      const pCTR = round7(sigmoid(z + opts.servedNoise * rng.normal()));
      const n = stats.impressions++;
      stats.oracleCtrSum += oracle;
      const impressionId = this.impressionId(n);
      if (json) {
        if (this.adJson[ad] === undefined) this.cacheAd(ad);
        impressions.push({
          key: impressionId,
          value: `{"type":"impression","impressionId":"${impressionId}${head}${this.adJson[ad]},"position":${position},"pCTR":${pCTR}${featureHead}${this.adFeatureJson[ad]}${tail}${oracle}}`,
        });
      } else {
        const campaign = model.ads.campaign[ad];
        const adId = names.ad(ad);
        const campaignId = names.campaign(campaign);
        impressions.push({
          type: 'impression',
          impressionId,
          requestId,
          ts,
          userId,
          adId,
          campaignId,
          bid: model.campaignBid[campaign],
          position,
          pCTR,
          modelVersion: opts.modelVersion,
          features: {
            user_id: userId,
            ad_id: adId,
            campaign_id: campaignId,
            ad_category: names.categories[model.ads.category[ad]],
            ctx_hour: hour,
            ctx_device: deviceName,
            ctx_site: siteName,
          },
          oracleCtr: oracle,
        } satisfies Impression);
      }
      this.scheduleClicks(ts, n, oracle);
    }
    stats.lastTs = ts;
  }

  /** A live ad for this slot, different from the ads already in the request (a few tries). */
  private pickAd(user: number, position: number): number {
    const { traffic, trafficRng: rng } = this.world;
    let ad = traffic.ad(rng, user);
    for (let tries = 0; tries < 3; tries++) {
      let seen = false;
      for (let p = 0; p < position; p++) if (this.picked[p] === ad) seen = true;
      if (!seen) break;
      ad = traffic.ad(rng, user);
    }
    this.picked[position] = ad;
    return ad;
  }

  private scheduleClicks(ts: number, n: number, ctr: number): void {
    const { clickRng: rng, delay } = this.world;
    const stats = this.stats;
    const opts = this.opts;
    if (rng.next() < ctr) {
      const delayMs = delay.sample(rng);
      this.queue.push(ts + delayMs, n);
      stats.firstClicks++;
      if (delay.isLate(delayMs)) stats.lateClicks++;
      if (rng.next() < opts.duplicateRate) {
        this.queue.push(ts + delayMs + Math.max(1, Math.round(rng.exponential(2000))), n);
        stats.duplicateClicks++;
      }
    }
    if (opts.unknownClickRate > 0 && rng.next() < opts.unknownClickRate) {
      this.queue.push(ts + delay.sample(rng), -1 - this.unknownSeq++);
      stats.unknownClicks++;
    }
  }

  private emitClick(json: boolean, clicks: unknown[]): void {
    const q = this.queue;
    q.pop();
    const ts = q.poppedTs;
    const ref = q.poppedRef;
    const impressionId = ref >= 0 ? this.impressionId(ref) : `${this.prefix}x${(-1 - ref).toString(36)}`;
    if (json) clicks.push({ key: impressionId, value: `{"type":"click","impressionId":"${impressionId}","ts":${ts}}` });
    else clicks.push({ type: 'click', impressionId, ts } satisfies Click);
    this.stats.clicks++;
    if (ts > this.stats.lastTs) this.stats.lastTs = ts;
  }

  private cacheAd(ad: number): void {
    const { model, names } = this.world;
    const campaign = model.ads.campaign[ad];
    const adId = names.ad(ad);
    const campaignId = names.campaign(campaign);
    this.adJson[ad] = `"adId":"${adId}","campaignId":"${campaignId}","bid":${model.campaignBid[campaign]}`;
    this.adFeatureJson[ad] = `"ad_id":"${adId}","campaign_id":"${campaignId}","ad_category":"${names.categories[model.ads.category[ad]]}"`;
  }
}

/** Batches of impression and click events (objects); the generator's return value is its stats. */
export function* generateEvents(opts: GeneratorOptionsInput): Generator<EventBatch<Impression, Click>, GeneratorStats> {
  const gen = new EventGenerator(opts);
  for (let b = gen.nextEvents(); b !== null; b = gen.nextEvents()) yield b;
  return gen.stats;
}

/** Batches of ready log records `{ key: impressionId, value: JSON text }`; the return value is the stats. */
export function* generateEventRecords(opts: GeneratorOptionsInput): Generator<EventBatch<AppendRecord, AppendRecord>, GeneratorStats> {
  const gen = new EventGenerator(opts);
  for (let b = gen.nextRecords(); b !== null; b = gen.nextRecords()) yield b;
  return gen.stats;
}
