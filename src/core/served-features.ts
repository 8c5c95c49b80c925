/**
 * Names of the request-level features every served impression carries, shared by the simulator
 * (which builds requests), the ranker (which serves them) and the learners (which read them back
 * from labeled examples). Aggregate features from the online store are defined in features/.
 */
import type { FieldDef } from './batch.ts';

export const REQUEST_FEATURES = [
  { name: 'user_id', kind: 'categorical' },
  { name: 'ad_id', kind: 'categorical' },
  { name: 'campaign_id', kind: 'categorical' },
  { name: 'ad_category', kind: 'categorical' },
  { name: 'ctx_hour', kind: 'categorical' },
  { name: 'ctx_device', kind: 'categorical' },
  { name: 'ctx_site', kind: 'categorical' },
] as const satisfies readonly FieldDef[];

/** Context of a rank request as the simulator and the gateway exchange it. */
export interface RequestContext {
  /** Hour of day 0–23 (event time). */
  readonly hour: number;
  readonly device: string;
  readonly site: string;
}
