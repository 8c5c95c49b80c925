/**
 * Labeled examples for offline-store tests: `example(i, ts, label)` is deterministic in `i` — ad
 * `a${i % 5}`, user `u${i % 7}`, category `cat${i % 4}` — and carries the request-level features
 * plus the ad's aggregates as served; `extra` adds or overrides features.
 */
import type { FeatureValue, LabeledExample } from '../../src/core/index.ts';

const DEVICES = ['mobile', 'desktop', 'tablet'];

export function example(i: number, ts: number, label: 0 | 1, extra: Readonly<Record<string, FeatureValue>> = {}): LabeledExample {
  const adId = `a${i % 5}`;
  const userId = `u${i % 7}`;
  const campaignId = `c${i % 3}`;
  return {
    type: 'example',
    impressionId: `imp-${String(i).padStart(6, '0')}`,
    requestId: `req-${i}`,
    ts,
    userId,
    adId,
    campaignId,
    bid: 1 + (i % 10) / 10,
    position: i % 4,
    pCTR: 0.05,
    modelVersion: 'ctr@1',
    features: {
      user_id: userId,
      ad_id: adId,
      campaign_id: campaignId,
      ad_category: `cat${i % 4}`,
      ctx_hour: new Date(ts).getUTCHours(),
      ctx_device: DEVICES[i % 3],
      ctx_site: `site${i % 6}`,
      ad_imps_1h: i % 50,
      ad_clicks_1h: i % 3,
      ad_ctr_1h: 0.03 + (i % 7) / 100,
      ad_imps_24h: (i % 50) * 10,
      ad_clicks_24h: i % 11,
      ad_ctr_24h: 0.02 + (i % 5) / 100,
      ...extra,
    },
    oracleCtr: 0.05,
    label,
    clickTs: label === 1 ? ts + 1_000 : null,
  };
}
