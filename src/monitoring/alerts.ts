/**
 * Alert state. Each evaluation hands over the checks of the rules it evaluated; a check whose
 * condition holds fires an alert (id `rule:subject`) at once, and an active alert resolves after
 * its condition has been false for `resolveAfter` evaluations in a row, so a value hovering at
 * the threshold does not flap. A check that cannot be judged (too little data) keeps the state as
 * it is. Firing and resolving each write one log line and call `onChange` (metric, webhook).
 */
import { silentLogger, type Logger } from '../core/index.ts';

export const BOX_IDS = ['gateway', 'feature_store', 'event_log', 'join', 'model_server', 'post_process', 'logging', 'label_backfill', 'training', 'registry'] as const;
export type BoxId = (typeof BOX_IDS)[number];

export type Severity = 'warn' | 'alert';

/** Each rule's severity and the diagram box it colors. */
export const RULES = {
  calibration: { severity: 'alert', box: 'post_process' },
  ctr_drop: { severity: 'warn', box: 'model_server' },
  join_lag: { severity: 'alert', box: 'join' },
  drift: { severity: 'warn', box: 'feature_store' },
  pctr_drift: { severity: 'warn', box: 'model_server' },
  degraded: { severity: 'alert', box: 'feature_store' },
  training_failed: { severity: 'alert', box: 'training' },
} as const satisfies Record<string, { severity: Severity; box: BoxId }>;

export type AlertRule = keyof typeof RULES;
export const ALERT_RULES = Object.keys(RULES) as AlertRule[];

export interface Alert {
  readonly id: string;
  readonly rule: AlertRule;
  readonly severity: Severity;
  readonly subject: string;
  readonly box: BoxId;
  readonly message: string;
  /** Event time the condition started. */
  readonly since: number;
  readonly resolvedAt?: number;
  readonly value: number;
  readonly threshold: number;
}

export interface AlertCheck {
  readonly rule: AlertRule;
  /** What it is about (feature, version, run id); '' when the rule has one subject. */
  readonly subject: string;
  /** true: the condition holds; false: it does not; null: it cannot be judged now (state kept). */
  readonly firing: boolean | null;
  readonly value: number;
  readonly threshold: number;
  readonly message: string;
}

export interface AlertsOptions {
  readonly logger?: Logger;
  /** Evaluations in a row without the condition before an alert resolves (default 3). */
  readonly resolveAfter?: number;
  /** Alerts kept in the recent list (default 100). */
  readonly keep?: number;
  readonly onChange?: (change: 'fired' | 'resolved', alert: Alert) => void;
}

interface ActiveAlert {
  alert: Alert;
  clearFor: number;
}

export class Alerts {
  private readonly current = new Map<string, ActiveAlert>();
  private readonly history: Alert[] = [];
  private readonly logger: Logger;
  private readonly resolveAfter: number;
  private readonly keep: number;
  private readonly onChange: AlertsOptions['onChange'];
  /** Alerts fired since start, per rule. */
  readonly fired = new Map<AlertRule, number>();

  constructor(opts: AlertsOptions = {}) {
    this.logger = opts.logger ?? silentLogger;
    this.resolveAfter = opts.resolveAfter ?? 3;
    this.keep = opts.keep ?? 100;
    this.onChange = opts.onChange;
  }

  /** Apply one evaluation of `rules`: `checks` are all of their checks at event time `now`. */
  update(rules: readonly AlertRule[], checks: readonly AlertCheck[], now: number): void {
    const seen = new Set<string>();
    for (const c of checks) {
      const id = c.subject === '' ? c.rule : `${c.rule}:${c.subject}`;
      seen.add(id);
      const active = this.current.get(id);
      if (c.firing === null) continue;
      if (c.firing && active === undefined) {
        this.fire(id, c, now);
      } else if (c.firing && active !== undefined) {
        active.alert = { ...active.alert, value: c.value, threshold: c.threshold, message: c.message };
        active.clearFor = 0;
      } else if (active !== undefined) {
        this.clearing(id, active, now, c.value);
      }
    }
    // An active alert of an evaluated rule whose subject was not checked (a version no longer serving) is clear.
    for (const [id, active] of this.current) {
      if (!seen.has(id) && rules.includes(active.alert.rule)) this.clearing(id, active, now, active.alert.value);
    }
  }

  /** Active alerts, most severe then oldest first. */
  active(): Alert[] {
    return [...this.current.values()].map((a) => a.alert).sort((a, b) => (a.severity === b.severity ? a.since - b.since : a.severity === 'alert' ? -1 : 1));
  }

  /** Latest alerts, active or resolved, newest first. */
  recent(): Alert[] {
    const active = [...this.current.values()].map((a) => a.alert);
    return [...active, ...this.history].sort((a, b) => (b.resolvedAt ?? b.since) - (a.resolvedAt ?? a.since)).slice(0, this.keep);
  }

  private fire(id: string, c: AlertCheck, now: number): void {
    const { severity, box } = RULES[c.rule];
    const alert: Alert = { id, rule: c.rule, severity, subject: c.subject, box, message: c.message, since: now, value: c.value, threshold: c.threshold };
    this.current.set(id, { alert, clearFor: 0 });
    this.fired.set(c.rule, (this.fired.get(c.rule) ?? 0) + 1);
    this.logger.warn({ alert: id, rule: c.rule, severity, value: c.value, threshold: c.threshold }, `ALERT ${severity}: ${c.message}`);
    this.onChange?.('fired', alert);
  }

  private clearing(id: string, active: ActiveAlert, now: number, value: number): void {
    active.clearFor++;
    if (active.clearFor < this.resolveAfter) return;
    this.current.delete(id);
    const resolved: Alert = { ...active.alert, value, resolvedAt: now };
    this.history.unshift(resolved);
    if (this.history.length > this.keep) this.history.length = this.keep;
    this.logger.info({ alert: id, rule: resolved.rule, value }, `resolved: ${resolved.message}`);
    this.onChange?.('resolved', resolved);
  }
}
