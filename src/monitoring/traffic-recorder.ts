/**
 * What the topics tell, kept for the monitor: every served impression and labeled example is
 * counted per model version (online evaluation), every pCTR goes to the prediction-drift check,
 * and a sample bounded per second of event time has its features read — for feature drift (and the
 * served baseline when there is no training reference), the inspector's recent requests and the
 * examples the curves are scored on. Late and unknown clicks go to the join's view.
 */
import { servedFeatureSchema } from '../features/index.ts';
import type { BaselineCollector } from './drift-reference.ts';
import type { Drift } from './drift.ts';
import { JoinTracker } from './join-tracker.ts';
import { OnlineEvaluator } from './online-evaluator.ts';
import { EventTimeSampler, ShareSampler, featuresOf, readExample, readImpression, readUnattributed, servedAd } from './records.ts';
import { ExampleSample, RecentRequests } from './recent.ts';

export interface TrafficRecorderOptions {
  readonly bucketMs: number;
  readonly historyMs: number;
  /** Recent joined examples kept per version, and in the curves' sample. */
  readonly examples: number;
  /** Records per second of event time whose features are read. */
  readonly sampleRate: number;
  readonly attributionWindowMs: number;
}

export class TrafficRecorder {
  readonly evaluator: OnlineEvaluator;
  readonly joinView: JoinTracker;
  readonly examples: ExampleSample;
  readonly requests = new RecentRequests();
  /** Records read per topic, and those that could not be read. */
  readonly counts = new Map<string, { records: number; invalid: number }>();
  /** Collects a served baseline for drift while there is no training reference. */
  baseline: BaselineCollector | null = null;
  private readonly impressionSample: EventTimeSampler;
  private readonly exampleSample = new ShareSampler();
  private newestTs: number | null = null;

  constructor(
    private readonly drift: Drift,
    opts: TrafficRecorderOptions,
  ) {
    this.evaluator = new OnlineEvaluator({ bucketMs: opts.bucketMs, historyMs: opts.historyMs, recentExamples: opts.examples });
    this.joinView = new JoinTracker({ bucketMs: opts.bucketMs, historyMs: opts.historyMs, attributionWindowMs: opts.attributionWindowMs });
    this.examples = new ExampleSample(servedFeatureSchema(), opts.examples);
    this.impressionSample = new EventTimeSampler(opts.sampleRate);
  }

  /** Newest impression event time read (null before any). */
  get newest(): number | null {
    return this.newestTs;
  }

  count(topic: string, records: number, invalid: number): void {
    const c = this.counts.get(topic) ?? { records: 0, invalid: 0 };
    c.records += records;
    c.invalid += invalid;
    this.counts.set(topic, c);
  }

  impression(value: string): boolean {
    const imp = readImpression(value);
    if (imp === null) return false;
    if (this.newestTs === null || imp.ts > this.newestTs) this.newestTs = imp.ts;
    this.evaluator.addImpression(imp.modelVersion, imp.ts, imp.pCTR, imp.position);
    this.drift.addPrediction(imp.ts, imp.pCTR, imp.modelVersion);
    // Features (most of a record's bytes) are parsed for the sample only.
    const forDrift = this.impressionSample.take(imp.ts);
    const forRequest = this.requests.wants(imp.requestId);
    if (!forDrift && !forRequest) return true;
    const ad = servedAd(imp);
    if (ad === null) return false;
    if (forRequest) this.requests.add(imp, ad);
    if (!forDrift) return true;
    this.drift.addFeatures(imp.ts, ad.features);
    const ref = this.baseline?.add(ad.features) ?? null;
    if (ref !== null) {
      this.baseline = null;
      if (this.drift.currentReference === null) this.drift.setReference(ref);
    }
    return true;
  }

  example(value: string): boolean {
    const e = readExample(value);
    if (e === null) return false;
    this.evaluator.addExample(e.modelVersion, e.ts, e.pCTR, e.label);
    this.joinView.addExample(e.ts, e.label);
    // Labels come out of event-time order: sample them in the share the impressions were.
    if (!this.exampleSample.take(this.impressionSample.share)) return true;
    const features = featuresOf(e);
    if (features === null) return false;
    this.examples.add(e, features);
    return true;
  }

  unattributed(value: string): boolean {
    const u = readUnattributed(value);
    if (u === null) return false;
    this.joinView.addUnattributed(u.reason, u.ts);
    return true;
  }
}
