/**
 * `pctr start --sim`'s traffic: the simulator's TrafficDriver in a worker thread of its own (the
 * market, the HTTP client and the served-vs-oracle AUCs cost about as much as the ranking they
 * drive, so they take the second core rather than the gateway's). The main thread sees its latest
 * report and can stop it.
 */
import type { Worker } from 'node:worker_threads';
import { PctrError, startWorker } from '../core/index.ts';
import type { MarketOptionsInput, TrafficStats, WindowMetrics } from '../sim/index.ts';
import type { SimClockSpec } from './sim-clock.ts';

export interface TrafficSettings {
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly clock: SimClockSpec;
  readonly market: MarketOptionsInput;
  /** Rank requests per simulated second. */
  readonly requestRate: number;
  readonly k: number;
  readonly concurrency: number;
  readonly impressions: number;
  /** Impressions in the served-vs-oracle window (the summary's rates). */
  readonly window: number;
  /** A shorter window for the live view, which shows learning sooner. */
  readonly recent: number;
  readonly reportEveryMs: number;
}

export interface TrafficReport {
  readonly stats: TrafficStats;
  readonly window: WindowMetrics;
  readonly recent: WindowMetrics;
  readonly simTs: number;
}

export type TrafficMessage = ({ readonly type: 'progress' | 'done' } & TrafficReport) | { readonly type: 'failed'; readonly message: string };

export class SimTraffic {
  private latest: TrafficReport | null = null;
  private failure: string | null = null;
  /** Settles when the driver is done (its impressions reached, or stopped). */
  readonly done: Promise<TrafficReport | null>;

  private constructor(private readonly worker: Worker) {
    this.done = new Promise((resolve, reject) => {
      worker.on('message', (m: TrafficMessage) => {
        if (m.type === 'failed') {
          this.failure = m.message;
          reject(new PctrError('PCTR_INTERNAL', `simulated traffic failed: ${m.message}`));
          return;
        }
        this.latest = m;
        if (m.type === 'done') resolve(m);
      });
      worker.on('error', (e) => reject(new PctrError('PCTR_INTERNAL', `simulated traffic thread failed: ${e.message}`, { cause: e })));
      worker.on('exit', () => resolve(this.latest));
    });
    // Callers may only poll `report()`; a failure must not surface as an unhandled rejection.
    this.done.catch(() => undefined);
  }

  static start(settings: TrafficSettings): SimTraffic {
    return new SimTraffic(startWorker(new URL('./traffic-worker.ts', import.meta.url), { ...settings }));
  }

  report(): TrafficReport | null {
    return this.latest;
  }

  get error(): string | null {
    return this.failure;
  }

  /** Stop sending (requests in flight finish); resolves with the final report. */
  async stop(): Promise<TrafficReport | null> {
    this.worker.postMessage({ type: 'stop' });
    const final = await this.done.catch(() => this.latest);
    await this.worker.terminate();
    return final;
  }
}
