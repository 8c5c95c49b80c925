/**
 * POST /api/inspect: rank a request the way the gateway would — same model routing, features,
 * rules and top-k — without logging impressions, and explain each ranked ad. For linear and
 * factorization models every ad carries its per-feature contributions to the logit (models/
 * `explainRows`), each with the feature's value as served. `{ sample: true }` ranks a request the
 * monitor saw recently (its user, context and served ads as candidates).
 */
import { PctrError, type Config } from '../../core/index.ts';
import { ServedBatchWriter, assembleServedFeatures, entityRefs } from '../../features/index.ts';
import { explainRows, isExplainable } from '../../models/index.ts';
import type { Monitor } from '../../monitoring/index.ts';
import { Ranker, type RankInput, type ServingParts } from '../../serving/index.ts';
import type { Contribution, InspectRanked, InspectResponse } from './types.ts';

/** A validated rank request (or the sampled one) as the inspector ranks it. */
export type InspectInput = RankInput;

export class Inspector {
  private readonly ranker: Ranker;
  private readonly writer = new ServedBatchWriter();

  constructor(
    private readonly parts: ServingParts,
    private readonly monitor: Monitor,
    config: Config,
  ) {
    // No log: inspecting must not create impressions (nor count as served traffic in metrics).
    this.ranker = new Ranker({ holder: parts.holder, features: parts.features, minPctr: config.gateway.minPctr });
  }

  /** The monitor's pick of a recent request, as a rank request. */
  sample(): InspectInput {
    const r = this.monitor.requests.pick();
    if (r === null) throw new PctrError('PCTR_NOT_FOUND', 'no request has been served yet to sample: send one with userId, context and candidates instead', { details: { field: 'sample' } });
    return { requestId: `inspect.${r.requestId}`, userId: r.userId, ts: r.ts, context: { ...r.context }, candidates: r.candidates.map((c) => ({ ...c })), k: Math.min(10, r.candidates.length) };
  }

  async inspect(request: InspectInput): Promise<InspectResponse> {
    const ranked = await this.ranker.rank(request);
    const served = this.parts.holder.route(request.userId).served;
    const ranking: InspectRanked[] = ranked.ads.map((ad) => ({ adId: ad.adId, campaignId: ad.campaignId, pCTR: ad.pCTR, eCPM: ad.eCPM, position: ad.position }));
    if (isExplainable(served.model) && ranked.ads.length > 0) {
      const entities = entityRefs(request);
      const vectors = await this.parts.features.read(entities.refs);
      const batch = this.writer.write(request, entities, vectors);
      const rows = ranked.ads.map((ad) => request.candidates.findIndex((c) => c.adId === ad.adId && c.campaignId === ad.campaignId));
      const explained = explainRows(served.model, batch, rows);
      rows.forEach((row, i) => {
        const values = assembleServedFeatures(request, entities, vectors, row);
        const contributions: Contribution[] = explained[i].map((c) => ({ feature: c.feature, value: valueOf(values, c.feature), weight: c.weight }));
        ranking[i] = { ...ranking[i], contributions };
      });
    }
    return { request: { ...request }, modelVersion: ranked.modelVersion, kind: served.kind, ranking };
  }
}

/** A feature's served value; a cross shows both values, the bias 1. */
function valueOf(values: Readonly<Record<string, string | number>>, feature: string): string | number {
  if (feature === '(bias)') return 1;
  const cross = feature.split('×');
  if (cross.length === 2) return `${values[cross[0]] ?? ''}×${values[cross[1]] ?? ''}`;
  return values[feature] ?? '';
}
