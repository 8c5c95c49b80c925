import { describe, expect, it } from 'vitest';
import { isPctrError } from './errors.ts';
import { Click, Impression, LabeledExample } from './schemas.ts';
import { parseOrThrow } from './validation.ts';

const impression = {
  type: 'impression',
  impressionId: 'i1',
  requestId: 'r1',
  ts: 1_700_000_000_000,
  userId: 'u1',
  adId: 'a1',
  campaignId: 'c1',
  bid: 1.5,
  position: 0,
  pCTR: 0.02,
  modelVersion: 'ctr@1',
  features: { ad_id: 'a1', user_ctr_1h: 0.01 },
};

describe('event schemas', () => {
  it('accepts valid events', () => {
    expect(Impression.parse(impression).adId).toBe('a1');
    expect(Click.parse({ type: 'click', impressionId: 'i1', ts: 5 }).ts).toBe(5);
    expect(LabeledExample.parse({ ...impression, type: 'example', label: 1, clickTs: 1_700_000_001_000 }).label).toBe(1);
  });

  it.each([
    [{ ...impression, bid: 'high' }, 'bid'],
    [{ ...impression, pCTR: 1.5 }, 'pCTR'],
    [{ ...impression, extra: 1 }, 'extra'],
    [{ ...impression, userId: undefined }, 'userId'],
    [{ ...impression, features: { x: { nested: true } } }, 'features.x'],
    [{ ...impression, ts: 1.5 }, 'ts'],
  ])('names the offending field (%#)', (input, field) => {
    try {
      parseOrThrow(Impression, input, 'impression');
      expect.unreachable();
    } catch (e) {
      expect(isPctrError(e, 'PCTR_VALIDATION')).toBe(true);
      expect((e as Error).message).toContain(field);
    }
  });
});
