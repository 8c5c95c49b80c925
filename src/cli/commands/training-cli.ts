/**
 * What `pctr train` (pipeline modes), `pctr backfill` and `pctr worker` share: opening the training
 * service from config and flags, reading times from the command line, and printing runs.
 */
import type { Command } from 'commander';
import { PctrError, createLogger, formatDuration, loadConfig, parseDuration, type ConfigOverrides } from '../../core/index.ts';
import { aliasWebhookHook, webhookFromConfig } from '../../monitoring/index.ts';
import { TrainingService, createRunStore, runStoreUrl, type RunRecord, type RunStore } from '../../training/index.ts';

export interface Io {
  readonly out?: { write(text: string): unknown };
  readonly env?: NodeJS.ProcessEnv;
}

/** The training service per config (`--config`, environment) with command-line overrides. */
export async function openTraining(cmd: Command, io: Io, overrides: ConfigOverrides = {}): Promise<TrainingService> {
  const config = loadConfig({ env: io.env, file: cmd.optsWithGlobals().config as string | undefined, overrides });
  const logger = createLogger({ level: config.logLevel, name: 'training' });
  // Promotions by the pipeline's gate go out on the monitoring webhook, as those through the gateway do.
  const webhook = webhookFromConfig(config.monitoring, { logger });
  return TrainingService.open(config, { logger, ...(webhook ? { onAliasChange: aliasWebhookHook(webhook) } : {}) });
}

/** Only the run history (for `pctr train runs|show`), without opening the registry or the offline store. */
export async function openRunStore(cmd: Command, io: Io): Promise<RunStore> {
  const config = loadConfig({ env: io.env, file: cmd.optsWithGlobals().config as string | undefined });
  return createRunStore(runStoreUrl(config), { logger: createLogger({ level: config.logLevel, name: 'training' }) });
}

/** `2026-03-02`, `2026-03-02T06:00Z` (UTC unless an offset is given), or epoch milliseconds. */
export function parseTime(text: string, flag: string): number {
  if (/^\d+$/.test(text)) return Number(text);
  let ms = NaN;
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) ms = Date.parse(`${text}T00:00:00Z`);
  else if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text)) ms = Date.parse(`${text}Z`);
  else if (/^\d{4}-\d{2}-\d{2}T.*(Z|[+-]\d{2}:?\d{2})$/.test(text)) ms = Date.parse(text);
  if (!Number.isFinite(ms)) throw new PctrError('PCTR_VALIDATION', `${flag} "${text}" is not a time: use an ISO date/time such as 2026-03-02 or 2026-03-02T06:00Z, or epoch milliseconds`);
  return ms;
}

export function parseDurationFlag(text: string, flag: string): number {
  try {
    return parseDuration(text);
  } catch (e) {
    throw new PctrError('PCTR_VALIDATION', `${flag}: ${(e as Error).message}`);
  }
}

/** `--param k=v` pairs as a record (values stay strings; learners coerce them). */
export function paramPairs(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new PctrError('PCTR_VALIDATION', `--param ${pair} is not key=value`);
    out[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return out;
}

const iso = (ms: number | null | undefined): string => (ms === null || ms === undefined ? '-' : new Date(ms).toISOString().replace(':00.000Z', 'Z').replace('.000Z', 'Z'));
const f4 = (x: unknown): string => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(4) : '-');

function elapsed(run: RunRecord): string {
  return run.startedAt !== null && run.finishedAt !== null ? formatDuration(run.finishedAt - run.startedAt) : '-';
}

/** Headline numbers of a batch run, from its step outputs (absent for steps not reached). */
function headline(run: RunRecord): { rows: number | null; auc: number | null } {
  const output = (name: string) => run.steps.find((s) => s.name === name)?.output as Record<string, unknown> | null | undefined;
  const rows = output('extract')?.rows;
  const auc = (output('evaluate')?.challenger as { auc?: number } | undefined)?.auc ?? (output('publish')?.learner as { auc?: number } | undefined)?.auc;
  return { rows: typeof rows === 'number' ? rows : null, auc: typeof auc === 'number' ? auc : null };
}

function gateText(run: RunRecord): string {
  if (run.gate) return run.gate.promoted ? `promoted v${run.gate.version}` : run.gate.version === null ? 'kept champion' : `kept champion (v${run.gate.version} registered)`;
  return run.error ? `${run.error.code}` : '-';
}

export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}

export function runsTable(runs: readonly RunRecord[]): string {
  if (runs.length === 0) return 'no training runs';
  return table(
    ['RUN', 'TRIGGER', 'STATUS', 'FROM', 'TO', 'ROWS', 'AUC', 'TOOK', 'OUTCOME'],
    runs.map((r) => {
      const h = headline(r);
      return [r.id, r.trigger, r.status, iso(r.range?.from), iso(r.range?.to), h.rows === null ? '-' : String(h.rows), f4(h.auc), elapsed(r), gateText(r)];
    }),
  );
}

/** A run with its steps (status, tries, duration) and its outcome: the gate's reason or the error. */
export function runDetail(run: RunRecord): string {
  const lines = [
    `run ${run.id} (${run.pipeline}, ${run.trigger}) ${run.status}${run.finishedAt ? ` in ${elapsed(run)}` : ''}`,
    `range ${run.range ? `[${iso(run.range.from)}, ${iso(run.range.to)})` : '-'}`,
    table(
      ['STEP', 'STATUS', 'TRIES', 'TOOK'],
      run.steps.map((s) => [s.name, s.status, String(s.attempts), s.durationMs === null ? '-' : formatDuration(s.durationMs)]),
    ),
  ];
  if (run.gate) lines.push(`gate: ${run.gate.promoted ? `promoted v${run.gate.version}` : 'champion kept'} — ${run.gate.reason}`);
  if (run.error) {
    lines.push(`error ${run.error.code}: ${run.error.message}`);
    const checks = (run.error.details as { checks?: { ok: boolean; message: string }[] } | undefined)?.checks;
    for (const c of checks ?? []) lines.push(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.message}`);
  }
  return lines.join('\n');
}

/** Until SIGINT or SIGTERM. */
export function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: string) => () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve(sig);
    };
    const onInt = on('SIGINT');
    const onTerm = on('SIGTERM');
    process.once('SIGINT', onInt);
    process.once('SIGTERM', onTerm);
  });
}
