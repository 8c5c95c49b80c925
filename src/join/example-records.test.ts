import { describe, expect, it } from 'vitest';
import { LabeledExample } from '../core/index.ts';
import { ExampleRecords } from './example-records.ts';
import { exampleText } from './record-text.ts';

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
  features: { user_id: 'u1', ctx_site: 'ü-名前 a{"ts":7}' },
};

describe('ExampleRecords', () => {
  it('writes each example from its impression bytes, equal to exampleText, in a buffer of the promised size', () => {
    const compact = JSON.stringify(impression);
    const spaced = JSON.stringify(impression, null, 1);
    // The impressions sit inside a larger buffer, as they do in a read window.
    const window = Buffer.concat([Buffer.from('xx'), Buffer.from(compact), Buffer.from(spaced), Buffer.from('yy')]);
    const a = 2;
    const b = a + Buffer.byteLength(compact);
    const c = b + Buffer.byteLength(spaced);
    const ex = new ExampleRecords(2);
    expect(ex.add('k0', window, a, b, 0, null)).toBe(true);
    expect(ex.add('k1', window, a, b, 1, 1_700_000_060_000)).toBe(true);
    expect(ex.add('k2', window, b, c, 1, 7)).toBe(true);
    expect(ex.add('bad', Buffer.from('{"type":"click","ts":1}'), 0, 23, 0, null)).toBe(false);
    expect(ex.length).toBe(3);
    const want = [exampleText(compact, 0, null), exampleText(compact, 1, 1_700_000_060_000), exampleText(spaced, 1, 7)];
    for (let i = 0; i < 3; i++) {
      const out = Buffer.alloc(ex.maxValueBytes(i) + 4, 0xee);
      const end = ex.writeValue(i, out, 4);
      expect(end - 4).toBeLessThanOrEqual(ex.maxValueBytes(i));
      expect(out.toString('utf8', 4, end)).toBe(want[i]);
      expect(ex.key(i)).toBe(`k${i}`);
      LabeledExample.parse(JSON.parse(ex.value(i)));
    }
    expect(ex.toArray().map((r) => r.key)).toEqual(['k0', 'k1', 'k2']);
    ex.clear();
    expect(ex.length).toBe(0);
  });
});
