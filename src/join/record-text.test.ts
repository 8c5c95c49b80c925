import { describe, expect, it } from 'vitest';
import { LabeledExample } from '../core/index.ts';
import { RecordBuffer } from '../events/index.ts';
import { exampleText, isImpressionBytes, readTs, readTsBytes, topLevelKeyIndex, unattributedText, writeExample } from './record-text.ts';

const bytes = (s: string) => Buffer.from(s);

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
    const at = (json: string) => topLevelKeyIndex(bytes(json), 0, Buffer.byteLength(json), bytes('"k":'));
    expect(at('{"a":{"k":1},"k":2}')).toBe(13);
    const escaped = '{"a":["\\"k\\":"],"k":2}';
    expect(at(escaped)).toBe(escaped.lastIndexOf('"k":'));
    expect(at('{"a":{"k":1}}')).toBe(-1);
  });
});

describe('on bytes', () => {
  it('reads a record inside a larger buffer, and text with multi-byte characters, like the text itself', () => {
    const json = JSON.stringify({ ...impression, userId: 'ü-名前-😀', features: { ctx_site: '"ts":9 ü' } });
    const buf = Buffer.concat([bytes('{"ts":1}xx'), bytes(json), bytes('{"ts":2}')]);
    const start = 10;
    const end = start + Buffer.byteLength(json);
    expect(readTsBytes(buf, start, end)).toBe(impression.ts);
    expect(isImpressionBytes(buf, start, end)).toBe(true);
    expect(isImpressionBytes(bytes('{"type":"click","ts":1}'), 0, 23)).toBe(false);
    const out = new RecordBuffer(64);
    expect(writeExample(out, 'i1', buf, start, end, 1, 7)).toBe(true);
    expect(out.value(0)).toBe(exampleText(json, 1, 7));
    expect(JSON.parse(out.value(0))).toEqual({ ...JSON.parse(json), type: 'example', label: 1, clickTs: 7 });
  });

  it('writes examples into chunks, falling back to text for an impression in another shape', () => {
    const out = new RecordBuffer(256);
    const compact = bytes(JSON.stringify(impression));
    const spaced = bytes(JSON.stringify(impression, null, 1));
    for (let i = 0; i < 5; i++) expect(writeExample(out, `k${i}`, i % 2 ? spaced : compact, 0, (i % 2 ? spaced : compact).length, 0, null)).toBe(true);
    expect(writeExample(out, 'bad', bytes('{"type":"click"}'), 0, 16, 0, null)).toBe(false);
    expect(out.length).toBe(5);
    for (let i = 0; i < 5; i++) {
      expect(out.key(i)).toBe(`k${i}`);
      expect(JSON.parse(out.value(i))).toEqual({ ...impression, type: 'example', label: 0, clickTs: null });
    }
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

  it('writes the click time exactly as JSON does, at every digit count', () => {
    for (const clickTs of [0, 7, 10, 99_999_999, 100_000_000, 100_000_001, 1_704_067_200_072, 999_999_999_999_999, 123_456_789_012_345]) {
      expect(exampleText(JSON.stringify(impression), 1, clickTs)).toBe(JSON.stringify({ ...impression, type: 'example', label: 1, clickTs }));
    }
  });

  it('falls back to parsing when the text is not in the compact shape', () => {
    const spaced = JSON.stringify(impression, null, 1);
    expect(isImpressionBytes(bytes(spaced), 0, Buffer.byteLength(spaced))).toBe(false);
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
