/**
 * GET /api/models and /api/models/:version/curves. The list is read from the registry on each call
 * (a promotion made through the dashboard shows at once). Curves score the monitor's recent joined
 * examples with the asked version — whichever version served them — so any two versions can be
 * compared on the same live slice; loaded models are kept in a small cache.
 */
import { isPctrError } from '../../core/index.ts';
import { auc, isAsyncModel, loadModel, reliability, type Model } from '../../models/index.ts';
import { rocCurve, type Monitor } from '../../monitoring/index.ts';
import type { AliasEvent, ModelVersion, Registry } from '../../registry/index.ts';
import type { AliasEventView, CurvesResponse, ModelVersionView, ModelsResponse } from './types.ts';

const CACHED_MODELS = 4;
const RELIABILITY_BUCKETS = 10;

function versionView(v: ModelVersion): ModelVersionView {
  return {
    version: v.version,
    kind: v.kind,
    createdAt: v.createdAt,
    metrics: Object.fromEntries(Object.entries(v.metrics).filter(([, x]) => Number.isFinite(x))),
    params: { ...v.params },
    dataRange: v.dataRange ? { ...v.dataRange } : null,
    parentVersion: v.parentVersion ?? null,
    runId: v.runId ?? null,
    aliases: [...v.aliases],
    description: v.description ?? null,
    digest: v.digest,
    sizeBytes: v.sizeBytes,
  };
}

function eventView(e: AliasEvent): AliasEventView {
  return { name: e.name, alias: e.alias, action: e.action, fromVersion: e.fromVersion, toVersion: e.toVersion, reason: e.reason, at: e.at };
}

export async function models(registry: Registry, name: string): Promise<ModelsResponse> {
  let versions: ModelVersion[] = [];
  let history: AliasEvent[] = [];
  try {
    [versions, history] = await Promise.all([registry.list(name), registry.aliasHistory(name)]);
  } catch (e) {
    if (!isPctrError(e, 'PCTR_UNKNOWN_MODEL')) throw e;
  }
  const withAlias = (a: string) => versions.find((v) => v.aliases.includes(a))?.version ?? null;
  return {
    name,
    champion: withAlias('champion'),
    challenger: withAlias('challenger'),
    versions: versions.map(versionView).reverse(),
    history: history.map(eventView).reverse(),
  };
}

/** Curves are recomputed at most this often per version (scoring thousands of examples is not free). */
const CURVES_TTL_MS = 5000;

export class CurveMaker {
  private readonly cache = new Map<number, Promise<Model>>();
  private readonly recent = new Map<number, { at: number; curves: Promise<CurvesResponse> }>();

  constructor(
    private readonly registry: Registry,
    private readonly name: string,
    private readonly monitor: Monitor,
  ) {}

  curves(version: number): Promise<CurvesResponse> {
    const hit = this.recent.get(version);
    if (hit !== undefined && Date.now() - hit.at < CURVES_TTL_MS) return hit.curves;
    const curves = this.compute(version);
    this.recent.set(version, { at: Date.now(), curves });
    curves.catch(() => this.recent.delete(version));
    if (this.recent.size > CACHED_MODELS) this.recent.delete(this.recent.keys().next().value!);
    return curves;
  }

  private async compute(version: number): Promise<CurvesResponse> {
    const model = await this.model(version);
    const batch = this.monitor.examples.batch();
    const labels = batch.labels!;
    let positives = 0;
    for (let i = 0; i < batch.n; i++) positives += labels[i];
    const none: CurvesResponse = { version, source: 'none', n: batch.n, positives, auc: null, roc: { fpr: [], tpr: [] }, reliability: { mean_pred: [], observed: [], count: [] } };
    if (batch.n === 0) return none;
    const scores = new Float32Array(batch.n);
    if (isAsyncModel(model)) await model.predictAsync(batch, scores);
    else model.predict(batch, scores);
    const area = auc(scores, labels, batch.n);
    const buckets = reliability(scores, labels, RELIABILITY_BUCKETS, batch.n);
    return {
      version,
      source: 'online',
      n: batch.n,
      positives,
      auc: Number.isNaN(area) ? null : area,
      roc: rocCurve(scores, labels, batch.n),
      reliability: { mean_pred: buckets.map((b) => b.meanPredicted), observed: buckets.map((b) => b.observedRate), count: buckets.map((b) => b.count) },
    };
  }

  private model(version: number): Promise<Model> {
    let m = this.cache.get(version);
    if (m === undefined) {
      m = this.registry.get(this.name, version).then(async (v) => loadModel(await this.registry.loadArtifact(v)));
      // A failed load is not cached: the next call tries again.
      m.catch(() => this.cache.delete(version));
      this.cache.set(version, m);
      if (this.cache.size > CACHED_MODELS) this.cache.delete(this.cache.keys().next().value!);
    }
    return m;
  }
}
