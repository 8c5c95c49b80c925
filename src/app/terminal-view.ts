/**
 * The live terminal view of `pctr start`: a few lines redrawn in place when stdout is a terminal
 * (traffic, served-vs-oracle quality, models, the streaming parts), or one compact line every few
 * seconds when it is not (a log file, a CI job).
 */
import { formatDuration } from '../core/index.ts';
import type { WindowMetrics } from '../sim/index.ts';
import type { SystemStatus } from './embedded-system.ts';
import type { TrafficReport } from './sim-traffic.ts';

export interface ViewInput {
  readonly status: SystemStatus;
  readonly traffic: TrafficReport | null;
  /** Requests per wall second since the previous frame. */
  readonly requestsPerSec: number;
  /** Event time now, and when the run started. */
  readonly eventNow: number;
  readonly eventStart: number;
  readonly wallSeconds: number;
}

const n = (x: number): string => (!Number.isFinite(x) ? '-' : x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : x >= 1e4 ? `${(x / 1e3).toFixed(1)}k` : String(Math.round(x)));
const f3 = (x: number): string => (Number.isFinite(x) ? x.toFixed(3) : '-');
const pct = (x: number): string => (Number.isFinite(x) ? `${(100 * x).toFixed(2)}%` : '-');

function quality(label: string, m: WindowMetrics): string {
  return `${label} ${n(m.impressions)}: AUC served ${f3(m.servedAuc)} vs oracle ${f3(m.oracleAuc)} · logloss ${f3(m.servedLogloss)} vs ${f3(m.oracleLogloss)} · calibration ${f3(m.calibration)}`;
}

function eventTime(v: ViewInput): string {
  return `${new Date(v.eventNow).toISOString().slice(0, 16).replace('T', ' ')} (+${formatDuration(Math.max(0, v.eventNow - v.eventStart))})`;
}

/** The view's lines (without colour or cursor codes). */
export function renderView(v: ViewInput): string[] {
  const s = v.status;
  const t = v.traffic;
  const lines: string[] = [];
  if (t) {
    const w = t.window;
    lines.push(
      `traffic  ${n(v.requestsPerSec)} req/s · ${n(t.stats.impressions)} impressions · ${n(t.stats.clicks)} clicks · CTR ${pct(w.ctr)} · ` +
        `p99 ${t.stats.latencyP99Ms.toFixed(1)} ms · failures ${t.stats.failures} · event time ${eventTime(v)}`,
    );
    lines.push(`quality  ${quality('last', w)}`);
    if (t.recent.impressions < w.impressions) lines.push(`         ${quality('last', t.recent)}`);
  } else {
    lines.push(`traffic  ${n(s.impressionsLogged)} impressions logged · event time ${eventTime(v)}`);
  }
  const learner = s.learner;
  const pipeline = s.pipeline;
  lines.push(
    `models   serving ${s.model} · ${s.versionsPromoted} promoted · learner ${n(learner?.examples ?? 0)} examples, ${learner?.published ?? 0} published` +
      (pipeline ? ` · pipeline ${pipeline.runs} runs, ${pipeline.promoted} promoted${pipeline.running ? ' (training)' : ''}` : ''),
  );
  const why = learner?.lastDecision?.reason ?? pipeline?.last?.reason;
  if (why) lines.push(`         last gate: ${why.length > 150 ? `${why.slice(0, 147)}…` : why}`);
  const j = s.join;
  const lag = j?.watermarkLagMs;
  lines.push(
    `stream   join lag ${lag === null || lag === undefined ? '-' : formatDuration(lag)} · +${n(j?.positives ?? 0)} −${n(j?.negatives ?? 0)} · pending ${n(j?.pending ?? 0)} · ` +
      `late ${n(j?.lateClicks ?? 0)} · aggregates ${n(s.aggregates.impressions)} imps · offline ${n(s.sink?.written ?? 0)} rows` +
      (s.impressionsDropped > 0 ? ` · DROPPED ${n(s.impressionsDropped)} impressions` : ''),
  );
  for (const p of s.partFailures) lines.push(`warning  ${p.part} failed ${p.failures}× (restarted): ${p.lastFailure ?? ''}`);
  return lines;
}

/** One line for logs: the essentials of the view. */
export function renderLine(v: ViewInput): string {
  const t = v.traffic;
  const w = t?.window;
  return (
    `[${formatDuration(v.wallSeconds * 1000)}] ${n(v.requestsPerSec)} req/s · ${n(t?.stats.impressions ?? v.status.impressionsLogged)} imps · ` +
    (w ? `AUC ${f3(w.servedAuc)}/${f3(w.oracleAuc)} (served/oracle, last ${n(w.impressions)}) · calibration ${f3(w.calibration)} · ` : '') +
    `serving ${v.status.model} · promoted ${v.status.versionsPromoted} · join lag ${v.status.join?.watermarkLagMs == null ? '-' : formatDuration(v.status.join.watermarkLagMs)}`
  );
}

export interface TerminalOut {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

/** Redraws `renderView` in place on a terminal; prints `renderLine` every `lineEveryMs` elsewhere. */
export class TerminalView {
  private drawn = 0;
  private lastLine = -Infinity;

  constructor(
    private readonly out: TerminalOut,
    private readonly lineEveryMs = 5_000,
  ) {}

  get interactive(): boolean {
    return this.out.isTTY === true;
  }

  frame(v: ViewInput): void {
    if (!this.interactive) {
      const now = performance.now();
      if (now - this.lastLine < this.lineEveryMs) return;
      this.lastLine = now;
      this.out.write(`${renderLine(v)}\n`);
      return;
    }
    const lines = renderView(v);
    // Up to the first line drawn last time, clear to the end of the screen, draw again.
    const up = this.drawn > 0 ? `\x1b[${this.drawn}F\x1b[J` : '';
    this.out.write(`${up}${lines.map((l) => `${l}\x1b[K`).join('\n')}\n`);
    this.drawn = lines.length;
  }

  /** Leave the last frame on screen; what follows prints below it. */
  release(): void {
    this.drawn = 0;
  }
}
