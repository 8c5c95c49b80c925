import { describe, expect, it } from 'vitest';
import { LabeledExample } from '../core/index.ts';
import { exampleText, isImpressionText, readTs, topLevelKeyIndex, unattributedText } from './record-text.ts';

const impression = {
  type: 'impression',
  impressionId: 'i1',
  requestId: 'r1',
  ts: 1_700_000_000_123,
  userId: 'u1',
  adId: 'a1',
  campaignId: 'c1',
  bid: 1.5,
  position: 0,
  pCTR: 0.03,
  modelVersion: 'ctr@1',
  features: { user_id: 'u1', ts: 5, ctx_site: 'a{"ts":7}' },
  oracleCtr: 0.02,
};

describe('readTs', () => {
  it('reads the top-level integer ts', () => {
    expect(readTs(JSON.stringify(impression))).toBe(1_700_000_000_123);
    expect(readTs('{"type":"click","impressionId":"x","ts":42}')).toBe(42);
    expect(readTs('{"ts": 42 ,"a":1}')).toBe(42);
  });

  it('skips a ts nested in features or inside a string, wherever the top-level one is', () => {
    const { ts, ...rest } = impression;
    const featuresFirst = JSON.stringify({ ...rest, ts });
    expect(featuresFirst.indexOf('"ts":')).toBeLessThan(featuresFirst.lastIndexOf('"ts":'));
    expect(readTs(featuresFirst)).toBe(ts);
    expect(readTs('{"features":{"ts":5}}')).toBeNaN();
    expect(readTs('{"a\\"ts":1,"counts":2,"ts":3}')).toBe(3);
  });

  it('rejects what is not a plain integer', () => {
    for (const bad of ['{"ts":1.5}', '{"ts":1e3}', '{"ts":"5"}', '{"ts":-5}', '{"ts":}', '{"a":1}', '{"ts":1234567890123456}']) {
      expect(readTs(bad), bad).toBeNaN();
    }
  });
});

describe('topLevelKeyIndex', () => {
  it('ignores keys in nested objects, arrays and escaped strings', () => {
    expect(topLevelKeyIndex('{"a":{"k":1},"k":2}', '"k":')).toBe(13);
    const escaped = '{"a":["\\"k\\":"],"k":2}';
    expect(topLevelKeyIndex(escaped, '"k":')).toBe(escaped.lastIndexOf('"k":'));
    expect(topLevelKeyIndex('{"a":{"k":1}}', '"k":')).toBe(-1);
  });
});

describe('exampleText', () => {
  it('turns an impression into a labeled example that the core schema accepts, keeping every field', () => {
    const text = exampleText(JSON.stringify(impression), 1, 1_700_000_060_000) as string;
    const parsed = LabeledExample.parse(JSON.parse(text));
    expect(parsed).toEqual({ ...impression, type: 'example', label: 1, clickTs: 1_700_000_060_000 });
    const negative = LabeledExample.parse(JSON.parse(exampleText(JSON.stringify(impression), 0, null) as string));
    expect(negative.label).toBe(0);
    expect(negative.clickTs).toBeNull();
  });

  it('falls back to parsing when the text is not in the compact shape', () => {
    const spaced = JSON.stringify(impression, null, 1);
    expect(isImpressionText(spaced)).toBe(false);
    const parsed = LabeledExample.parse(JSON.parse(exampleText(spaced, 0, null) as string));
    expect(parsed.impressionId).toBe('i1');
  });

  it('gives null for text that is not an impression', () => {
    expect(exampleText('{"type":"click","impressionId":"x","ts":1}', 0, null)).toBeNull();
    expect(exampleText('not json', 0, null)).toBeNull();
  });
});

describe('unattributedText', () => {
  it('is JSON naming the reason, the click and the impression time', () => {
    expect(JSON.parse(unattributedText('late', 'i"1', 10, 5))).toEqual({
      type: 'unattributed-click',
      reason: 'late',
      impressionId: 'i"1',
      ts: 10,
      impressionTs: 5,
    });
  });
});
