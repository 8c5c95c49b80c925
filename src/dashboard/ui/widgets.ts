/** Small building blocks shared by several views: stat tiles and alert lists. */
import type { Alert } from '../api/types.ts';
import { h } from './dom.ts';
import { clock, dateTime } from './format.ts';

/** A headline number with its label and a note; `status` colors its edge (ok, warn, alert, idle). */
export function tile(label: string, value: string, note: string, status?: string): HTMLElement {
  return h('div', { class: `tile${status ? ` status-${status}` : ''}` }, h('span', { class: 'tile-label' }, label), h('b', { class: 'tile-value' }, value), h('span', { class: 'tile-note' }, note));
}

/** Alerts as shown: one line per alert, or one per rule and severity when a rule fires for many subjects. */
export interface AlertLine {
  readonly id: string;
  readonly rule: string;
  readonly severity: Alert['severity'];
  readonly message: string;
  readonly since: number;
  readonly count: number;
}

/** Rules firing for at least this many subjects at once are summarized in one line. */
const GROUP_FROM = 3;
const SUBJECTS_LISTED = 6;

export function alertLines(alerts: readonly Alert[]): AlertLine[] {
  const groups = new Map<string, Alert[]>();
  for (const a of alerts) {
    const key = `${a.rule}\u0000${a.severity}`;
    const g = groups.get(key);
    if (g) g.push(a);
    else groups.set(key, [a]);
  }
  const lines: AlertLine[] = [];
  for (const g of groups.values()) {
    if (g.length < GROUP_FROM) {
      for (const a of g) lines.push({ id: a.id, rule: a.rule, severity: a.severity, message: a.message, since: a.since, count: 1 });
      continue;
    }
    const worst = [...g].sort((a, b) => b.value / b.threshold - a.value / a.threshold);
    const listed = worst.slice(0, SUBJECTS_LISTED).map((a) => `${a.subject || a.id} (${a.value.toPrecision(3)})`);
    const more = g.length > SUBJECTS_LISTED ? ` and ${g.length - SUBJECTS_LISTED} more` : '';
    lines.push({
      id: `${g[0].rule}:${g[0].severity}:group`,
      rule: g[0].rule,
      severity: g[0].severity,
      message: `${g.length} × ${sentence(g[0].rule).toLowerCase()} (threshold ${g[0].threshold}): ${listed.join(', ')}${more}`,
      since: Math.min(...g.map((a) => a.since)),
      count: g.length,
    });
  }
  // Red before amber, then oldest first.
  return lines.sort((a, b) => (a.severity === b.severity ? a.since - b.since : a.severity === 'alert' ? -1 : 1));
}

/** Alerts as a list: severity, rule, message, since when. */
export function alertList(alerts: readonly Alert[], empty: string): HTMLElement {
  if (alerts.length === 0) return h('p', { class: 'muted' }, empty);
  return h(
    'ul',
    { class: 'alert-list' },
    alertLines(alerts).map((a) =>
      h(
        'li',
        { class: `sev-${a.severity}`, 'data-alert': a.id },
        h('span', { class: `pill ${a.severity}` }, a.severity),
        h('span', { class: 'rule' }, sentence(a.rule)),
        h('span', { class: 'msg' }, a.message),
        h('span', { class: 'when', title: dateTime(a.since) }, `since ${clock(a.since)}`),
      ),
    ),
  );
}

/** `join_lag` → "Join lag". */
export function sentence(rule: string): string {
  const words = rule.replaceAll('_', ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}
