/**
 * `pctr models`: inspect the registry and move aliases. Human tables by default, `--json` for
 * machines (one JSON document on stdout). Uses the registry named by config (`registry.url`,
 * `registry.artifacts`, i.e. PCTR_REGISTRY / PCTR_ARTIFACTS).
 */
import type { Command } from 'commander';
import { PctrError, createLogger, loadConfig } from '../../core/index.ts';
import { onnxArtifactFromFiles } from '../../models/index.ts';
import { aliasWebhookHook, webhookFromConfig } from '../../monitoring/index.ts';
import { createRegistry, parseModelRef, type AliasEvent, type ModelVersion, type Registry, type VersionRef } from '../../registry/index.ts';

export interface ModelsCommandIo {
  readonly out?: { write(text: string): unknown };
  readonly env?: NodeJS.ProcessEnv;
}

type Json = { json?: boolean };

export function registerModelsCommand(program: Command, io: ModelsCommandIo = {}): void {
  const out = io.out ?? process.stdout;
  const print = (text: string) => void out.write(text.endsWith('\n') ? text : `${text}\n`);
  const emit = (opts: Json, data: unknown, human: () => string) => print(opts.json ? JSON.stringify(data, null, 2) : human());
  const withRegistry = async <T>(cmd: Command, fn: (r: Registry) => Promise<T>): Promise<T> => {
    const config = loadConfig({ env: io.env, file: cmd.optsWithGlobals().config as string | undefined });
    // Promotions and rollbacks made here go out on the monitoring webhook, as the gateway's do;
    // closing it waits (briefly) for their delivery.
    const webhook = webhookFromConfig(config.monitoring, { logger: createLogger({ level: config.logLevel, name: 'models' }) });
    const registry = await createRegistry({ url: config.registry.url, artifacts: config.registry.artifacts, ...(webhook ? { onAliasChange: aliasWebhookHook(webhook) } : {}) });
    try {
      return await fn(registry);
    } finally {
      await registry.close();
      await webhook?.close();
    }
  };

  const models = program
    .command('models')
    .description('Registered models: list versions, show one, promote or roll back an alias, compare two versions')
    .addHelpText(
      'after',
      `
Examples:
  pctr models ls                              every model with its aliases
  pctr models ls ctr                          versions of ctr with metrics
  pctr models show ctr@champion --verify      one version; --verify re-hashes its artifact
  pctr models promote ctr 7 --reason "auc +0.004"
  pctr models promote ctr 8 --alias challenger --expect 6
  pctr models rollback ctr                    champion back to its previous version
  pctr models diff ctr 6 @champion --json
  pctr models import-onnx deepfm.onnx --spec spec.json --name ctr --promote`,
    );

  models
    .command('ls [name]')
    .description('List models (no name) or the versions of one model')
    .option('--json', 'print JSON')
    .action((name: string | undefined, opts: Json, cmd: Command) =>
      withRegistry(cmd, async (r) => {
        if (name === undefined) {
          const rows = await Promise.all((await r.models()).map(async (m) => summary(m, await r.list(m))));
          emit(opts, rows, () => (rows.length ? table(['MODEL', 'VERSIONS', 'LATEST', 'ALIASES', 'LATEST CREATED'], rows.map((s) => [s.name, String(s.versions), String(s.latest ?? '-'), aliasText(s.aliases), when(s.latestCreatedAt ?? '')])) : 'no models registered'));
          return;
        }
        const versions = await r.list(parseModelRef(name).name);
        emit(opts, versions, () => versionsTable(versions));
      }),
    );

  models
    .command('show <ref>')
    .description('Show a version (name@alias, name:version) or a model overview with its alias history (name)')
    .option('--verify', 'load the artifact and check its checksum')
    .option('--json', 'print JSON')
    .action((text: string, opts: Json & { verify?: boolean }, cmd: Command) =>
      withRegistry(cmd, async (r) => {
        const { name, ref } = parseModelRef(text);
        if (ref === undefined) {
          const [versions, history] = await Promise.all([r.list(name), r.aliasHistory(name)]);
          const data = { ...summary(name, versions), history };
          emit(opts, data, () => `${fields([['model', name], ['versions', String(versions.length)], ['aliases', aliasText(data.aliases) || '(none)']])}\n\nalias history\n${history.length ? historyTable(history.slice(-20)) : '  (none)'}`);
          return;
        }
        const v = await r.get(name, ref);
        if (opts.verify) await r.loadArtifact(v);
        emit(opts, opts.verify ? { ...v, artifactVerified: true } : v, () => versionDetail(v, opts.verify === true));
      }),
    );

  models
    .command('promote <name> <version>')
    .description('Point an alias (default champion) at a version, atomically')
    .option('--alias <alias>', 'alias to move', 'champion')
    .option('--reason <text>', 'why, kept in the alias history', 'promoted with pctr models promote')
    .option('--expect <version|none>', 'only if the alias now points to this version (or is unset): guards against racing promoters')
    .option('--json', 'print the alias event as JSON')
    .action((name: string, version: string, opts: Json & { alias: string; reason: string; expect?: string }, cmd: Command) =>
      withRegistry(cmd, async (r) => {
        const expectedVersion = opts.expect === undefined ? undefined : opts.expect === 'none' ? null : versionArg(opts.expect, '--expect');
        const e = await r.setAlias(name, opts.alias, versionArg(version, 'version'), { reason: opts.reason, expectedVersion });
        emit(opts, e, () => (e.fromVersion === e.toVersion ? `${name}@${e.alias} already points to version ${e.toVersion}; nothing changed` : `${name}@${e.alias}: ${e.fromVersion ?? '(unset)'} → ${e.toVersion}`));
      }),
    );

  models
    .command('rollback <name>')
    .description('Move an alias (default champion) back to the version it had before its last promotion')
    .option('--alias <alias>', 'alias to roll back', 'champion')
    .option('--reason <text>', 'why, kept in the alias history', 'rolled back with pctr models rollback')
    .option('--json', 'print the alias event as JSON')
    .action((name: string, opts: Json & { alias: string; reason: string }, cmd: Command) =>
      withRegistry(cmd, async (r) => {
        const e = await r.rollback(name, opts.alias, { reason: opts.reason });
        emit(opts, e, () => `${name}@${e.alias} rolled back: ${e.fromVersion ?? '(unset)'} → ${e.toVersion}`);
      }),
    );

  models
    .command('import-onnx <file>')
    .description('Register an ONNX model (exported from PyTorch or TensorFlow) with the feature spec that maps served features to its inputs')
    .requiredOption('--spec <file>', 'feature-spec JSON (format pctr-onnx-spec/1)')
    .requiredOption('--name <name>', 'registered model to add the version to')
    .option('--promote', 'point the champion alias at the new version')
    .option('--json', 'print the new version as JSON')
    .action((file: string, opts: Json & { spec: string; name: string; promote?: boolean }, cmd: Command) =>
      withRegistry(cmd, async (r) => {
        const { model, artifact } = await onnxArtifactFromFiles(file, opts.spec);
        const v = await r.register(opts.name, artifact, { kind: model.kind, params: model.spec, metrics: {}, description: `ONNX model imported from ${file}` });
        if (opts.promote) await r.setAlias(opts.name, 'champion', v.version, { reason: `imported ONNX model ${file}` });
        emit(opts, v, () => `registered ${v.name}:${v.version} (onnx, ${v.sizeBytes} bytes)${opts.promote ? `; ${v.name}@champion → ${v.version}` : ''}`);
      }),
    );

  models
    .command('diff <name> <a> <b>')
    .description('Compare two versions (numbers or @alias): metrics with their change, params side by side')
    .option('--json', 'print JSON')
    .action((name: string, a: string, b: string, opts: Json, cmd: Command) =>
      withRegistry(cmd, async (r) => {
        const [va, vb] = await Promise.all([r.get(name, refArg(a)), r.get(name, refArg(b))]);
        const d = diff(va, vb);
        emit(opts, d, () => diffTable(d));
      }),
    );
}

function versionArg(text: string, what: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new PctrError('PCTR_VALIDATION', `${what} "${text}" is not a version number (1, 2, …)`);
  return Number(text);
}

function refArg(text: string): VersionRef {
  return text.startsWith('@') ? (text as `@${string}`) : versionArg(text, 'version');
}

function summary(name: string, versions: readonly ModelVersion[]) {
  const latest = versions[versions.length - 1];
  const aliases: Record<string, number> = {};
  for (const v of versions) for (const a of v.aliases) aliases[a] = v.version;
  return { name, versions: versions.length, latest: latest?.version ?? null, aliases, latestCreatedAt: latest?.createdAt ?? null };
}

interface Diff {
  readonly name: string;
  readonly a: number;
  readonly b: number;
  readonly fields: Record<string, { a: unknown; b: unknown; changed: boolean }>;
  readonly metrics: Record<string, { a: number | null; b: number | null; delta: number | null }>;
  readonly params: Record<string, { a: unknown; b: unknown; changed: boolean }>;
}

function diff(a: ModelVersion, b: ModelVersion): Diff {
  const side = (x: unknown, y: unknown) => ({ a: x ?? null, b: y ?? null, changed: JSON.stringify(x) !== JSON.stringify(y) });
  const keys = (x: object, y: object) => [...new Set([...Object.keys(x), ...Object.keys(y)])].sort();
  const fields: Diff['fields'] = {};
  for (const f of ['kind', 'dataRange', 'parentVersion', 'codeVersion', 'runId', 'digest', 'sizeBytes', 'createdAt', 'aliases'] as const) fields[f] = side(a[f], b[f]);
  const metrics: Diff['metrics'] = {};
  for (const k of keys(a.metrics, b.metrics)) {
    const [x, y] = [a.metrics[k] ?? null, b.metrics[k] ?? null];
    metrics[k] = { a: x, b: y, delta: x === null || y === null ? null : y - x };
  }
  const params: Diff['params'] = {};
  for (const k of keys(a.params, b.params)) params[k] = side(a.params[k], b.params[k]);
  return { name: a.name, a: a.version, b: b.version, fields, metrics, params };
}

function diffTable(d: Diff): string {
  const mark = (changed: boolean) => (changed ? '*' : '');
  const rows: string[][] = [];
  for (const [k, f] of Object.entries(d.fields)) rows.push([k, fieldText(k, f.a), fieldText(k, f.b), mark(f.changed)]);
  rows.push(['metrics', '', '', '']);
  for (const [k, m] of Object.entries(d.metrics)) rows.push([`  ${k}`, value(m.a), value(m.b), m.delta === null ? '' : `${m.delta >= 0 ? '+' : ''}${num(m.delta)}`]);
  rows.push(['params', '', '', '']);
  for (const [k, p] of Object.entries(d.params)) rows.push([`  ${k}`, value(p.a), value(p.b), mark(p.changed)]);
  return table(['', `${d.name}:${d.a}`, `${d.name}:${d.b}`, 'CHANGE'], rows);
}

/** Compact human forms of the wide fields (the JSON output keeps them whole). */
function fieldText(field: string, x: unknown): string {
  if (x === null || x === undefined) return '-';
  if (field === 'digest') return String(x).slice(0, 12);
  if (field === 'createdAt') return when(String(x));
  if (field === 'aliases') return (x as string[]).join(',') || '-';
  if (field === 'dataRange') return rangeText(x as NonNullable<ModelVersion['dataRange']>);
  return value(x);
}

function rangeText(r: NonNullable<ModelVersion['dataRange']>): string {
  return `${when(new Date(r.from).toISOString())} → ${when(new Date(r.to).toISOString())} (${r.rows} rows)`;
}

function versionsTable(versions: readonly ModelVersion[]): string {
  const metricNames = [...new Set(versions.flatMap((v) => Object.keys(v.metrics)))].sort();
  const header = ['VERSION', 'KIND', 'CREATED', 'ALIASES', ...metricNames.map((m) => m.toUpperCase()), 'ROWS', 'PARENT', 'RUN', 'DIGEST'];
  const rows = versions.map((v) => [
    String(v.version),
    v.kind,
    when(v.createdAt),
    v.aliases.join(','),
    ...metricNames.map((m) => (m in v.metrics ? num(v.metrics[m]) : '')),
    v.dataRange ? String(v.dataRange.rows) : '',
    v.parentVersion === undefined ? '' : String(v.parentVersion),
    v.runId ?? '',
    v.digest.slice(0, 12),
  ]);
  return table(header, rows);
}

function versionDetail(v: ModelVersion, verified: boolean): string {
  const head = fields([
    ['model', v.name],
    ['version', String(v.version)],
    ['aliases', v.aliases.join(', ')],
    ['kind', v.kind],
    ['created', v.createdAt],
    ['data', v.dataRange ? rangeText(v.dataRange) : ''],
    ['parent', v.parentVersion === undefined ? '' : String(v.parentVersion)],
    ['code', v.codeVersion ?? ''],
    ['run', v.runId ?? ''],
    ['description', v.description ?? ''],
    ['digest', `sha256:${v.digest}`],
    ['size', `${v.sizeBytes} bytes`],
    ['artifact', verified ? 'verified: checksum matches' : ''],
  ]);
  const section = (title: string, entries: [string, unknown][]) => `${title}\n${entries.length ? fields(entries.map(([k, x]) => [`  ${k}`, value(x)])) : '  (none)'}`;
  return `${head}\n\n${section('metrics', Object.entries(v.metrics))}\n\n${section('params', Object.entries(v.params))}`;
}

function historyTable(history: readonly AliasEvent[]): string {
  return table(
    ['AT', 'ALIAS', 'ACTION', 'FROM', 'TO', 'REASON'],
    history.map((h) => [when(h.at), h.alias, h.action, String(h.fromVersion ?? '-'), String(h.toVersion ?? '-'), h.reason]),
  );
}

function aliasText(aliases: Record<string, number>): string {
  return Object.entries(aliases)
    .sort(([x], [y]) => x.localeCompare(y))
    .map(([a, v]) => `${a}=${v}`)
    .join(' ');
}

function num(x: number): string {
  return Number.isInteger(x) ? String(x) : String(Number(x.toPrecision(6)));
}

function value(x: unknown): string {
  if (x === null || x === undefined) return '-';
  if (typeof x === 'number') return num(x);
  return typeof x === 'string' ? x : JSON.stringify(x);
}

function when(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/** `key  value` lines, skipping empty values. */
function fields(entries: readonly (readonly [string, string])[]): string {
  const shown = entries.filter(([, v]) => v !== '');
  const width = Math.max(...shown.map(([k]) => k.length));
  return shown.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
