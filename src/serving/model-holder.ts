/**
 * The model holder: which models serve, and how they change. It follows the registry aliases
 * `champion` (and `challenger` when an A/B share or shadow scoring is configured). A move is
 * loaded in the background, off the request path: artifact bytes (checksum verified by the registry)
 * → decode → smoke test on a sample of served features → one reference assignment, so a request
 * sees the old model or the new one, never a mix. A load that fails keeps the old model, and the
 * error is logged, counted and shown by `status()` (readiness detail, metrics). Before any champion
 * exists the prior stands in (`name@prior`), so the whole loop can start from nothing.
 */
import { errorMessage, isPctrError, silentLogger, type Logger } from '../core/index.ts';
import type { CtrPrior } from '../features/index.ts';
import { loadModel } from '../models/index.ts';
import type { ModelVersion, Registry, Unsubscribe } from '../registry/index.ts';
import { AbRouter } from './ab-router.ts';
import type { ServingMetrics } from './metrics.ts';
import { priorServedModel, type ModelAlias, type ServedModel } from './served-model.ts';
import { smokeTest } from './smoke.ts';

export interface ModelHolderOptions {
  readonly registry: Registry;
  /** Registered model served (config `registry.modelName`). */
  readonly name: string;
  /** Share of users served by the challenger (0 = none). */
  readonly challengerShare?: number;
  /** Score the model not served beside the served one, for the shadow log. */
  readonly shadow?: boolean;
  readonly prior?: CtrPrior;
  readonly logger?: Logger;
  readonly metrics?: ServingMetrics;
}

export interface LoadFailure {
  readonly alias: ModelAlias;
  readonly version: number;
  readonly code?: string;
  readonly message: string;
  readonly at: string;
}

/** Which model serves a request, and which (if any) scores it in the shadow. */
export interface ModelRoute {
  readonly served: ServedModel;
  readonly shadow: ServedModel | null;
}

export interface HolderStatus {
  readonly started: boolean;
  readonly champion: ServedModel;
  readonly challenger: ServedModel | null;
  readonly loadFailures: number;
  readonly lastLoadError?: LoadFailure;
}

class AliasSlot {
  current: ServedModel | null = null;
  /** Latest version reported and not yet tried. */
  wanted: ModelVersion | null = null;
  /** Last version tried (loaded or failed): a watch report of it again is not news. */
  tried: number | null = null;
  loading: Promise<void> | null = null;
  unsubscribe: Unsubscribe | null = null;

  constructor(readonly alias: ModelAlias) {}
}

export class ModelHolder {
  readonly name: string;
  readonly router: AbRouter;
  readonly shadow: boolean;
  private readonly prior: ServedModel;
  private readonly slots: Record<ModelAlias, AliasSlot> = { champion: new AliasSlot('champion'), challenger: new AliasSlot('challenger') };
  private readonly logger: Logger;
  private loadFailures = 0;
  private lastLoadError: LoadFailure | undefined;
  private started = false;
  private closed = false;

  constructor(private readonly opts: ModelHolderOptions) {
    this.name = opts.name;
    this.router = new AbRouter(opts.challengerShare ?? 0);
    this.shadow = opts.shadow ?? false;
    this.prior = priorServedModel(opts.name, opts.prior);
    this.logger = opts.logger ?? silentLogger;
    opts.metrics?.modelInfo.set({ alias: 'champion', version: this.prior.label, kind: this.prior.kind }, 1);
  }

  /** Whether the challenger alias is followed at all. */
  get usesChallenger(): boolean {
    return this.router.challengerShare > 0 || this.shadow;
  }

  /** The champion served now (the prior when none is loaded). */
  get champion(): ServedModel {
    return this.slots.champion.current ?? this.prior;
  }

  get challenger(): ServedModel | null {
    return this.usesChallenger ? this.slots.challenger.current : null;
  }

  /** Load the current aliases (waiting for those loads), then follow their moves. */
  async start(): Promise<void> {
    const aliases: ModelAlias[] = this.usesChallenger ? ['champion', 'challenger'] : ['champion'];
    await Promise.all(
      aliases.map((a) =>
        this.sync(a).catch((e: unknown) => {
          // An unreachable registry must not keep the gateway down: serve what we have, the watch retries.
          this.logger.warn({ alias: a, err: errorMessage(e) }, 'cannot read the model registry at start; following the alias once it answers');
        }),
      ),
    );
    for (const a of aliases) {
      const slot = this.slots[a];
      slot.unsubscribe = this.opts.registry.watch(this.name, a, (v) => this.report(slot, v), { known: slot.tried });
    }
    this.started = true;
  }

  /**
   * Read where `alias` points now and load it if it moved; resolves when this gateway serves it or
   * has given up on it. Admin promotions call it so their answer says what this gateway serves.
   */
  async sync(alias: ModelAlias): Promise<{ served: ServedModel | null; failure?: LoadFailure }> {
    const slot = this.slots[alias];
    let v: ModelVersion;
    try {
      v = await this.opts.registry.get(this.name, `@${alias}`);
    } catch (e) {
      if (!isPctrError(e, 'PCTR_UNKNOWN_ALIAS') && !isPctrError(e, 'PCTR_UNKNOWN_MODEL')) throw e;
      // A removed challenger alias stops the A/B split; a champion is never dropped for lack of one.
      if (alias === 'challenger' && slot.current !== null) this.swap(slot, null);
      return { served: slot.current };
    }
    this.report(slot, v, true);
    while (slot.loading !== null) await slot.loading;
    const failure = this.lastLoadError?.alias === alias && this.lastLoadError.version === v.version && slot.current?.version !== v.version ? this.lastLoadError : undefined;
    return failure ? { served: slot.current, failure } : { served: slot.current };
  }

  /** Load a version exactly as serving would (checksum, decode, smoke test) without serving it. */
  verify(v: ModelVersion): Promise<ServedModel> {
    return this.load('champion', v);
  }

  /** Which model scores this user's request (A/B by hash of userId), and which shadows it. */
  route(userId: string): ModelRoute {
    const champion = this.champion;
    const challenger = this.challenger;
    if (challenger !== null && this.router.inChallengerGroup(userId)) return { served: challenger, shadow: this.shadow ? champion : null };
    return { served: champion, shadow: this.shadow ? challenger : null };
  }

  status(): HolderStatus {
    const base = { started: this.started, champion: this.champion, challenger: this.challenger, loadFailures: this.loadFailures };
    return this.lastLoadError === undefined ? base : { ...base, lastLoadError: this.lastLoadError };
  }

  /** Stop following the registry; loads in progress finish but are not applied. */
  async close(): Promise<void> {
    this.closed = true;
    for (const slot of Object.values(this.slots)) {
      slot.unsubscribe?.();
      slot.unsubscribe = null;
      slot.wanted = null;
    }
    await Promise.all(Object.values(this.slots).map((s) => s.loading));
  }

  private report(slot: AliasSlot, v: ModelVersion, force = false): void {
    if (this.closed) return;
    if (!force && v.version === slot.tried) return;
    if (slot.current?.version === v.version) {
      slot.tried = v.version;
      return;
    }
    slot.wanted = v;
    slot.loading ??= this.drain(slot).finally(() => (slot.loading = null));
  }

  /** Load wanted versions one at a time until none is left (a move during a load is loaded next). */
  private async drain(slot: AliasSlot): Promise<void> {
    while (slot.wanted !== null && !this.closed) {
      const v = slot.wanted;
      slot.wanted = null;
      slot.tried = v.version;
      if (slot.current?.version === v.version) continue;
      const t0 = performance.now();
      try {
        const loaded = await this.load(slot.alias, v);
        if (this.closed) return;
        this.swap(slot, loaded);
        this.opts.metrics?.modelLoads.inc({ alias: slot.alias, result: 'success' });
        this.logger.info({ alias: slot.alias, version: loaded.label, kind: loaded.kind, ms: Math.round(performance.now() - t0) }, 'model loaded and swapped in');
      } catch (e) {
        this.loadFailures++;
        this.lastLoadError = {
          alias: slot.alias,
          version: v.version,
          ...(isPctrError(e) ? { code: e.code } : {}),
          message: errorMessage(e),
          at: new Date().toISOString(),
        };
        this.opts.metrics?.modelLoads.inc({ alias: slot.alias, result: 'failure' });
        const keeps = slot.current?.label ?? (slot.alias === 'champion' ? this.prior.label : 'no challenger');
        this.logger.error({ alias: slot.alias, version: v.version, err: errorMessage(e) }, `model ${v.name}@${v.version} not loaded; still serving ${keeps}`);
      }
    }
  }

  private async load(alias: ModelAlias, v: ModelVersion): Promise<ServedModel> {
    const label = `${v.name}@${v.version}`;
    const bytes = await this.opts.registry.loadArtifact(v);
    const model = loadModel(bytes);
    await smokeTest(model, `model ${label}`);
    return { alias, label, version: v.version, kind: model.kind, digest: v.digest, loadedAt: new Date().toISOString(), model };
  }

  private swap(slot: AliasSlot, next: ServedModel | null): void {
    const m = this.opts.metrics;
    const prev = slot.current ?? (slot.alias === 'champion' ? this.prior : null);
    if (prev !== null) m?.modelInfo.remove({ alias: slot.alias, version: prev.label, kind: prev.kind });
    slot.current = next;
    const now = next ?? (slot.alias === 'champion' ? this.prior : null);
    if (now !== null) m?.modelInfo.set({ alias: slot.alias, version: now.label, kind: now.kind }, 1);
  }
}
