/**
 * The simulator's traffic driver over HTTP: simulated users asking a real gateway for ads and
 * clicking on what it serves. Per request: `market.nextRequest(ts)` → POST /v1/rank (with `ts` =
 * simulated time, `k` ads) → for each served ad, `market.outcome(…)` decides the click (and its
 * duplicate) → the click is queued at ts + delay and POSTed to /v1/events, in batches, once the
 * clock passes it. Several requests are in flight at once (an undici pool per gateway; several
 * gateways are used round-robin). A sliding window of the last impressions compares the served pCTR
 * with the oracle's true CTR (served-window.ts).
 *
 * Time: request i is made at `start + i / requestRate` seconds of simulated time. With
 * `pacing: 'clock'` the driver waits for the clock to reach that time (a simulated clock running
 * N× faster than the wall, or the wall clock itself) and, when the gateway cannot keep up, skips
 * ahead rather than sending requests stamped in the past; with `pacing: 'max'` the clock must be a
 * manual `SimulatedClock` (speed 0), which the driver advances itself as fast as the gateway answers.
 */
import { Pool } from 'undici';
import { PctrError, errorMessage, type Clock } from '../core/index.ts';
import type { AdMarket, MarketRequest } from './ad-market.ts';
import { ClickSender } from './click-sender.ts';
import { ServedWindow, type WindowMetrics } from './served-window.ts';

export interface TrafficDriverOptions {
  /** Gateway base URL, e.g. http://127.0.0.1:8080; or several in `baseUrls`, used round-robin. */
  readonly baseUrl?: string;
  readonly baseUrls?: readonly string[];
  /** A client API key. */
  readonly apiKey: string;
  readonly market: AdMarket;
  /** Event time of requests and clicks; a manual SimulatedClock (speed 0) with `pacing: 'max'`. */
  readonly clock: Clock;
  readonly pacing?: 'clock' | 'max';
  /** Rank requests per second of simulated time (default 10). */
  readonly requestRate?: number;
  /** Ads per request (default 1: with more, later positions get a position bias the served pCTR cannot know). */
  readonly k?: number;
  /** Rank requests in flight (default 8). */
  readonly concurrency?: number;
  /** Stop after about this many impressions (default: until `signal` aborts). */
  readonly impressions?: number;
  /** Impressions in the served-vs-oracle window (default 50,000). */
  readonly window?: number;
  /** Most clicks per POST /v1/events (default 2,000). */
  readonly clickBatch?: number;
  /** After the last request, send every pending click too (advancing a manual clock to them), not only those due. */
  readonly drainClicks?: boolean;
  readonly signal?: AbortSignal;
}

export interface TrafficStats {
  readonly requests: number;
  readonly impressions: number;
  /** Clicks the simulator decided on served ads (duplicates not counted). */
  readonly clicks: number;
  readonly clicksSent: number;
  readonly duplicatesSent: number;
  /** Clicks (and duplicates) waiting for the clock to reach them. */
  readonly clicksPending: number;
  /** Rank and click requests that failed (HTTP status or network error). */
  readonly failures: number;
  /** HTTP status (or `network`) → count, over rank and click requests. */
  readonly statuses: Readonly<Record<string, number>>;
  readonly lastError: string | null;
  /** Simulated time of the first and the latest request. */
  readonly firstTs: number | null;
  readonly lastTs: number | null;
  /** The model version of the latest answer, and impressions served per version. */
  readonly modelVersion: string | null;
  readonly versions: Readonly<Record<string, number>>;
  /** Rank round-trip latency over the last 1,000 answers, milliseconds. */
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
}

interface RankedAnswer {
  readonly modelVersion: string;
  readonly ads: readonly { readonly adId: string; readonly impressionId: string; readonly position: number; readonly pCTR: number }[];
}

const LATENCY_SAMPLES = 1000;

export class TrafficDriver {
  private readonly opts: Required<Pick<TrafficDriverOptions, 'requestRate' | 'k' | 'concurrency' | 'impressions' | 'pacing'>> & TrafficDriverOptions;
  private readonly pools: Pool[];
  private readonly headers: Record<string, string>;
  private readonly window: ServedWindow;
  private readonly clicks: ClickSender;
  private readonly latencies = new Float64Array(LATENCY_SAMPLES);
  private readonly versions = new Map<string, number>();
  private readonly statuses = new Map<string, number>();
  private counts = { requests: 0, impressions: 0, clicks: 0, failures: 0 };
  private inFlight = 0;
  private slot = 0;
  private startTs = NaN;
  private firstTs: number | null = null;
  private lastTs: number | null = null;
  private modelVersion: string | null = null;
  private lastError: string | null = null;
  private nextPool = 0;

  constructor(opts: TrafficDriverOptions) {
    const urls = opts.baseUrls ?? (opts.baseUrl === undefined ? [] : [opts.baseUrl]);
    if (urls.length === 0) throw new PctrError('PCTR_VALIDATION', 'the traffic driver needs baseUrl or baseUrls');
    const pacing = opts.pacing ?? 'clock';
    if (pacing === 'max' && typeof (opts.clock as { advance?: unknown }).advance !== 'function') {
      throw new PctrError('PCTR_VALIDATION', "pacing 'max' needs a manual SimulatedClock the driver can advance");
    }
    this.opts = { requestRate: 10, k: 1, concurrency: 8, impressions: Infinity, ...opts, pacing };
    for (const [name, v] of [['requestRate', this.opts.requestRate], ['k', this.opts.k], ['concurrency', this.opts.concurrency]] as const) {
      if (!(v > 0)) throw new PctrError('PCTR_VALIDATION', `traffic driver ${name} must be > 0, got ${v}`);
    }
    const connections = Math.max(1, Math.ceil(this.opts.concurrency / urls.length));
    this.pools = urls.map((u) => new Pool(u, { connections, keepAliveTimeout: 30_000 }));
    this.headers = { 'content-type': 'application/json', authorization: `Bearer ${opts.apiKey}` };
    this.window = new ServedWindow(opts.window ?? 50_000);
    this.clicks = new ClickSender({
      post: (events) => this.post('/v1/events', { events }).then((r) => r !== null),
      clock: opts.clock,
      batch: opts.clickBatch ?? 2_000,
    });
  }

  /** Drive traffic until `impressions` are served or `signal` aborts; resolves with the final stats. */
  async run(): Promise<TrafficStats> {
    this.startTs = this.opts.clock.now();
    const ticker = setInterval(() => this.clicks.flush(), 20);
    try {
      await Promise.all(Array.from({ length: this.opts.concurrency }, () => this.lane()));
      await this.clicks.finish(this.opts.drainClicks === true ? (ts) => this.advanceTo(ts) : null);
    } finally {
      clearInterval(ticker);
      await Promise.allSettled(this.pools.map((p) => p.close()));
    }
    return this.stats();
  }

  stats(): TrafficStats {
    const sorted = this.latencies.slice(0, Math.min(LATENCY_SAMPLES, this.counts.requests)).sort();
    const q = (f: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(f * sorted.length))]);
    const c = this.clicks.stats();
    return {
      ...this.counts,
      clicksSent: c.sent,
      duplicatesSent: c.duplicatesSent,
      clicksPending: c.pending,
      failures: this.counts.failures + c.failures,
      statuses: Object.fromEntries(this.statuses),
      lastError: this.lastError,
      firstTs: this.firstTs,
      lastTs: this.lastTs,
      modelVersion: this.modelVersion,
      versions: Object.fromEntries(this.versions),
      latencyP50Ms: q(0.5),
      latencyP99Ms: q(0.99),
    };
  }

  /** Served pCTR vs the oracle over the last `last` impressions of the window (default: all of it). */
  metrics(last?: number): WindowMetrics {
    return this.window.metrics(last);
  }

  private done(): boolean {
    return this.opts.signal?.aborted === true || this.counts.impressions + this.inFlight * this.opts.k >= this.opts.impressions;
  }

  private async lane(): Promise<void> {
    while (!this.done()) {
      const ts = await this.nextTime();
      if (ts === null) return;
      this.opts.market.advance(ts);
      const request = this.opts.market.nextRequest(ts);
      this.inFlight++;
      try {
        await this.rank(request);
      } finally {
        this.inFlight--;
      }
      this.clicks.flush();
    }
  }

  /** Simulated time of the next request (waiting for it when paced), or null when the run stopped meanwhile. */
  private async nextTime(): Promise<number | null> {
    const step = 1000 / this.opts.requestRate;
    const clock = this.opts.clock;
    let ts = this.startTs + this.slot++ * step;
    if (this.opts.pacing === 'max') {
      this.advanceTo(ts);
      return Math.floor(ts);
    }
    const now = clock.now();
    // Behind schedule (the gateway is slower than the rate): skip ahead instead of stamping the past.
    if (now - ts > step) {
      this.slot = Math.ceil((now - this.startTs) / step) + 1;
      ts = this.startTs + (this.slot - 1) * step;
    }
    await this.waitForClock(ts);
    return this.done() ? null : Math.floor(ts);
  }

  private advanceTo(ts: number): void {
    const clock = this.opts.clock as Clock & { advance(ms: number): void };
    const ahead = ts - clock.now();
    if (ahead > 0) clock.advance(ahead);
  }

  private async waitForClock(ts: number): Promise<void> {
    const clock = this.opts.clock as Clock & { wallDelayUntil?: (ts: number) => number };
    for (;;) {
      const ahead = ts - clock.now();
      if (ahead <= 0 || this.opts.signal?.aborted) return;
      const wall = clock.wallDelayUntil ? clock.wallDelayUntil(ts) : ahead;
      await new Promise((r) => setTimeout(r, Math.min(Math.max(1, wall), 250)));
    }
  }

  private async rank(request: MarketRequest): Promise<void> {
    const t0 = performance.now();
    const body = { requestId: request.requestId, userId: request.userId, ts: request.ts, context: request.context, candidates: request.candidates, k: this.opts.k };
    const answer = (await this.post('/v1/rank', body)) as RankedAnswer | null;
    this.latencies[this.counts.requests % LATENCY_SAMPLES] = performance.now() - t0;
    this.counts.requests++;
    this.firstTs ??= request.ts;
    if (this.lastTs === null || request.ts > this.lastTs) this.lastTs = request.ts;
    if (answer === null) return;
    this.modelVersion = answer.modelVersion;
    this.versions.set(answer.modelVersion, (this.versions.get(answer.modelVersion) ?? 0) + answer.ads.length);
    const market = this.opts.market;
    for (const ad of answer.ads) {
      const outcome = market.outcome(request, ad.adId, ad.position, request.ts);
      this.window.record(ad.pCTR, outcome.trueCtr, outcome.click !== null);
      this.counts.impressions++;
      if (outcome.click === null) continue;
      this.counts.clicks++;
      this.clicks.add(ad.impressionId, request.ts + outcome.click.delayMs, false);
      if (outcome.click.duplicateDelayMs !== null) this.clicks.add(ad.impressionId, request.ts + outcome.click.duplicateDelayMs, true);
    }
  }

  /** POST JSON; the parsed answer, or null (counted) when the request failed. */
  private async post(path: string, body: unknown): Promise<unknown> {
    const pool = this.pools[this.nextPool];
    this.nextPool = (this.nextPool + 1) % this.pools.length;
    try {
      const res = await pool.request({ path, method: 'POST', headers: this.headers, body: JSON.stringify(body) });
      this.count(String(res.statusCode));
      if (res.statusCode === 200) return await res.body.json();
      const text = await res.body.text();
      this.failed(`${path} answered ${res.statusCode}: ${text.slice(0, 300)}`);
      return null;
    } catch (e) {
      this.count('network');
      this.failed(`${path} failed: ${errorMessage(e)}`);
      // A gateway that is down would otherwise be hammered in a tight loop.
      await new Promise((r) => setTimeout(r, 100));
      return null;
    }
  }

  private count(status: string): void {
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
  }

  private failed(message: string): void {
    this.lastError = message;
    if (message.startsWith('/v1/rank')) this.counts.failures++;
  }
}
