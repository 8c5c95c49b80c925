import { describe, expect, it } from 'vitest';
import { fileSettings } from '../../test/contracts/event-log.contract.ts';
import { tempDir } from '../../test/helpers/services.ts';
import { Click, isPctrError, partitionOf, type Impression } from '../core/index.ts';
import { appendEvents, createEventLog, decodeEvent, eventLogConfig, type LogRecord } from './index.ts';

const impression: Impression = {
  type: 'impression',
  impressionId: 'imp-1',
  requestId: 'req-1',
  ts: 1_700_000_000_000,
  userId: 'u1',
  adId: 'a1',
  campaignId: 'c1',
  bid: 1.5,
  position: 0,
  pCTR: 0.02,
  modelVersion: 'ctr@1',
  features: { site: 'news', hour: 13 },
};

const rec = (value: string): LogRecord => ({ topic: 'impressions', partition: 2, offset: 7, key: 'k', value });

describe('event codec', () => {
  it('appends events keyed by impressionId and decodes them validated', async () => {
    const t = tempDir('evcodec');
    const log = await createEventLog(fileSettings(t.dir, { partitions: 4 }));
    try {
      const ack = await appendEvents(log, 'impressions', [impression, { type: 'click', impressionId: 'imp-1', ts: impression.ts + 5 }]);
      expect(ack.offsets.map((o) => o.partition)).toEqual([partitionOf('imp-1', 4), partitionOf('imp-1', 4)]);
      const b = await log.subscribe('impressions', 'g').poll(10, 1000);
      expect(b.records.map((r) => r.key)).toEqual(['imp-1', 'imp-1']);
      expect(decodeEvent(b.records[0])).toEqual(impression);
      expect(decodeEvent(b.records[1], Click).ts).toBe(impression.ts + 5);
    } finally {
      await log.close();
      t.remove();
    }
  });

  it('names the record and the field that is wrong', () => {
    const bad = rec(JSON.stringify({ ...impression, bid: -1 }));
    const err = (() => {
      try {
        decodeEvent(bad);
      } catch (e) {
        return e;
      }
    })();
    expect(isPctrError(err, 'PCTR_VALIDATION')).toBe(true);
    expect((err as Error).message).toMatch(/impressions\/2@7.*bid/);
    expect(() => decodeEvent(rec('{not json'))).toThrow(/impressions\/2@7: not JSON/);
    expect(() => decodeEvent(rec(JSON.stringify({ type: 'click', impressionId: 'x', ts: 1 })), Click)).not.toThrow();
  });
});

describe('eventLogConfig', () => {
  const base = fileSettings('/x');
  it('picks the backend from the URL', () => {
    expect(eventLogConfig({ ...base, url: 'file:./data/ev' })).toMatchObject({ type: 'file', dir: expect.stringMatching(/\/data\/ev$/) });
    expect(eventLogConfig({ ...base, url: 'redis://h:6380/2?prefix=abc', retentionBytes: 5000 })).toEqual({ type: 'redis', url: 'redis://h:6380/2', prefix: 'abc', partitions: base.partitions, maxLen: 5000 });
    expect(eventLogConfig({ ...base, url: 'redis://h:6380' })).toMatchObject({ prefix: 'pctr' });
  });
  it('rejects unknown schemes and bad prefixes with the setting named', () => {
    expect(() => eventLogConfig({ ...base, url: 'kafka://h:9092' })).toThrow(/events.url kafka:\/\/h:9092: unknown event log backend "kafka"/);
    expect(() => eventLogConfig({ ...base, url: 'redis://h?prefix=a%20b' })).toThrow(/prefix "a b"/);
  });
});
