import { describe, expect, it } from 'vitest';
import { EventTimeSampler, ShareSampler, featuresOf, readExample, readImpression, readUnattributed, servedAd } from './records.ts';

const impression = {
  type: 'impression',
  impressionId: 'i1',
  requestId: 'r1',
  ts: 1_700_000_000_123,
  userId: 'u1',
  adId: 'a1',
  campaignId: 'c1',
  bid: 1.5,
  position: 2,
  pCTR: 0.0312,
  modelVersion: 'ctr@3',
  features: { user_id: 'u1', ctx_device: 'mobile', ctx_hour: 7, ad_imps_1h: 12 },
};

describe('records', () => {
  it('reads the gateway layout without a full parse, and the features on demand', () => {
    const text = JSON.stringify(impression);
    const imp = readImpression(text)!;
    expect(imp).toMatchObject({ requestId: 'r1', ts: 1_700_000_000_123, position: 2, pCTR: 0.0312, modelVersion: 'ctr@3' });
    expect(servedAd(imp)).toEqual({ userId: 'u1', adId: 'a1', campaignId: 'c1', bid: 1.5, features: impression.features });
    expect(featuresOf(imp)).toEqual(impression.features);
  });

  it('falls back to JSON.parse for other layouts: a feature named like a field is never taken for it', () => {
    const { type, features, ts, pCTR, ...rest } = impression;
    // Features first, with a feature called "ts"; the real fields after them.
    const text = JSON.stringify({ type, features: { ...features, ts: 5, pCTR: 0.9 }, ...rest, ts, pCTR });
    expect(readImpression(text)).toMatchObject({ ts: 1_700_000_000_123, pCTR: 0.0312 });
    const escaped = JSON.stringify({ ...impression, modelVersion: 'odd"name@1' });
    expect(readImpression(escaped)!.modelVersion).toBe('odd"name@1');
  });

  it('reads labels from the join’s tail and rejects what is not a record of the topic', () => {
    const example = JSON.stringify({ ...impression, type: 'example', oracleCtr: 0.02, label: 1, clickTs: 1_700_000_010_000 });
    expect(readExample(example)).toMatchObject({ ts: 1_700_000_000_123, pCTR: 0.0312, modelVersion: 'ctr@3', label: 1 });
    expect(readExample(JSON.stringify({ ...impression, type: 'example', label: 2, clickTs: null }))).toBeNull();
    expect(readImpression(example)).toBeNull();
    expect(readImpression('{"type":"impression","features":')).toBeNull();
    expect(readImpression('not json')).toBeNull();
    expect(readImpression(JSON.stringify({ ...impression, pCTR: 'high' }))).toBeNull();
    expect(readUnattributed('{"type":"unattributed-click","reason":"late","impressionId":"x","ts":5,"impressionTs":1}')).toEqual({ reason: 'late', ts: 5 });
    expect(readUnattributed('{"type":"unattributed-click","reason":"other","ts":5}')).toBeNull();
  });
});

describe('samplers', () => {
  it('takes at most perSecond records per second of event time, however fast they are read, and reports the share', () => {
    const s = new EventTimeSampler(100);
    let taken = 0;
    // 1000 records per second of event time for 60 s.
    for (let i = 0; i < 60_000; i++) if (s.take(i)) taken++;
    expect(taken).toBeGreaterThanOrEqual(6000);
    expect(taken).toBeLessThanOrEqual(6100);
    expect(s.share).toBeCloseTo(0.1, 2);
    const all = new EventTimeSampler(100);
    let every = 0;
    for (let i = 0; i < 1000; i++) if (all.take(i * 20)) every++;
    expect(every).toBe(1000);
  });

  it('a share sampler takes that share systematically', () => {
    const s = new ShareSampler();
    let taken = 0;
    for (let i = 0; i < 1000; i++) if (s.take(0.25)) taken++;
    expect(taken).toBe(250);
  });
});
