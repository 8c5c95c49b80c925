/**
 * `pctr train`: fit a model on a Criteo or Avazu file (gzip or plain) and write DIR/model.pctr
 * (the artifact) and DIR/report.json (data, fit, calibration and held-out metrics). Malformed rows
 * are skipped and counted; the last `--holdout` share of the rows (time order) is held out to fit
 * the calibration and measure the model.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import cliProgress from 'cli-progress';
import { PctrError } from '../../core/index.ts';
import { DATASET_KINDS, datasetSchema, isDatasetKind, readDataset, split, type DatasetKind, type DatasetReader, type ReadReport, type RowRange } from '../../datasets/index.ts';
import {
  CALIBRATION_METHODS,
  createLearner,
  encodeArtifact,
  isLearnerKind,
  LEARNER_KINDS,
  learnerParamNames,
  parseParamPairs,
  trainModel,
  type CalibrationMethod,
  type FitReport,
  type Metrics,
} from '../../models/index.ts';
import { PIPELINE_HELP, addPipelineMode, runPipelineMode } from './train-pipeline.ts';

interface TrainFlags {
  dataset: string;
  input: string;
  model: string;
  param: string[];
  out: string;
  holdout?: number;
  calibration: CalibrationMethod;
  downsample: number;
  json?: boolean;
  progress: boolean;
}

const EXAMPLES = `
Examples:
  $ pctr train --dataset criteo --input train.tsv.gz --model ftrl --out models/ftrl
  $ pctr train --dataset avazu --input train.csv --model ftrl --param alpha=0.1 --param l1=0.5 \\
      --param crosses=site_id:device_model --calibration isotonic --holdout 0.1 --out models/avazu
  $ pctr train --dataset criteo --input big.tsv --downsample 0.25 --calibration platt --out models/ds

ftrl parameters (--param k=v): ${learnerParamNames('ftrl').join(', ')}.
Writes OUT/model.pctr and OUT/report.json; evaluate with \`pctr eval --model OUT ...\`.`;

const fraction = (lo: number, hi: number, open = false) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < lo || n > hi || (open && (n === lo || n === hi))) throw new InvalidArgumentError(`must be a number in ${open ? '(' : '['}${lo}, ${hi}${open ? ')' : ']'}`);
  return n;
};

/** A progress bar on stderr, only where someone watches (a TTY). */
export function startProgress(enabled: boolean, label: string): { update(fraction: number, status?: string): void; stop(): void } {
  if (!enabled || !process.stderr.isTTY) return { update: () => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: `${label} [{bar}] {percentage}% | {status}`, hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(1000, 0, { status: '' });
  return { update: (f, status = '') => bar.update(Math.round(f * 1000), { status }), stop: () => bar.stop() };
}

export interface MetricsJson {
  readonly n: number;
  readonly positives: number;
  readonly auc: number | null;
  readonly logloss: number | null;
  readonly ne: number | null;
  readonly calibration: number | null;
  readonly mean_pctr: number | null;
  readonly observed_ctr: number | null;
  readonly reliability: readonly { lo: number; hi: number; count: number; mean_pctr: number; observed_ctr: number }[];
}

/** Metrics as JSON: snake_case keys, null where a value is undefined (NaN). */
export function metricsJson(m: Metrics): MetricsJson {
  const num = (x: number) => (Number.isFinite(x) ? x : null);
  return {
    n: m.n,
    positives: m.positives,
    auc: num(m.auc),
    logloss: num(m.logloss),
    ne: num(m.ne),
    calibration: num(m.calibration),
    mean_pctr: num(m.meanPredicted),
    observed_ctr: num(m.observedRate),
    reliability: m.reliability.map((b) => ({ lo: b.lo, hi: b.hi, count: b.count, mean_pctr: b.meanPredicted, observed_ctr: b.observedRate })),
  };
}

export function malformedWarning(path: string, report: ReadReport): string | null {
  if (report.malformed === 0) return null;
  const first = report.firstErrors[0];
  return `skipped ${report.malformed} malformed row${report.malformed === 1 ? '' : 's'} of ${path} (first at line ${first.line}: ${first.message})`;
}

export interface TrainResult {
  readonly model: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly dataset: DatasetKind;
  readonly input: string;
  readonly data: { readonly rows: number; readonly malformed: number; readonly first_errors: ReadReport['firstErrors'] };
  readonly fit: FitReport & { readonly examples_per_s: number };
  readonly calibration: unknown;
  readonly holdout?: { readonly rows: number; readonly malformed: number; readonly raw: MetricsJson; readonly calibrated?: MetricsJson };
  readonly artifact: { readonly path: string; readonly bytes: number };
  readonly seconds: number;
}

async function train(flags: TrainFlags): Promise<TrainResult> {
  if (!isDatasetKind(flags.dataset)) throw new PctrError('PCTR_VALIDATION', `--dataset must be one of ${DATASET_KINDS.join(', ')}, got "${flags.dataset}"`);
  if (!isLearnerKind(flags.model)) throw new PctrError('PCTR_VALIDATION', `--model must be one of ${LEARNER_KINDS.join(', ')}, got "${flags.model}"`);
  if (!(CALIBRATION_METHODS as readonly string[]).includes(flags.calibration)) {
    throw new PctrError('PCTR_VALIDATION', `--calibration must be one of ${CALIBRATION_METHODS.join(', ')}, got "${flags.calibration}"`);
  }
  const kind: DatasetKind = flags.dataset;
  const holdout = flags.holdout ?? (flags.calibration === 'none' ? 0 : 0.1);
  if (flags.calibration !== 'none' && holdout === 0) throw new PctrError('PCTR_VALIDATION', `--calibration ${flags.calibration} needs --holdout > 0`);
  const learner = createLearner(flags.model, parseParamPairs(flags.param), datasetSchema(kind));

  const ranges: { train?: RowRange; holdout?: RowRange } = {};
  if (holdout > 0) {
    const s = await split(flags.input, { dataset: kind, trainFraction: 1 - holdout });
    [ranges.train, ranges.holdout] = [s.train, s.test];
  }
  // The first training pass reports the data (later epochs re-read the same rows).
  const readers: { train?: DatasetReader; holdout?: DatasetReader } = {};
  const progress = startProgress(flags.progress && !flags.json, 'train');
  let passes = 0;
  const started = performance.now();
  let report;
  try {
    report = await trainModel(learner, {
      source: flags.input,
      calibration: flags.calibration,
      downsampleRate: flags.downsample,
      train: () => {
        const reader = readDataset(kind, flags.input, { rows: ranges.train });
        readers.train ??= reader;
        const status = `pass ${++passes}`;
        return (async function* () {
          for await (const batch of reader) {
            progress.update(reader.progress(), status);
            yield batch;
          }
        })();
      },
      holdout: ranges.holdout ? () => (readers.holdout = readDataset(kind, flags.input, { rows: ranges.holdout })) : undefined,
    });
  } finally {
    progress.stop();
  }
  const seconds = (performance.now() - started) / 1000;
  const artifact = learner.toArtifact();
  const bytes = encodeArtifact(artifact);
  await mkdir(flags.out, { recursive: true });
  const modelPath = join(flags.out, 'model.pctr');
  await writeFile(modelPath, bytes);
  const data = readers.train!.report;
  const result: TrainResult = {
    model: learner.kind,
    params: artifact.header.params,
    dataset: kind,
    input: flags.input,
    data: { rows: data.rows, malformed: data.malformed, first_errors: data.firstErrors },
    fit: { ...report.fit, examples_per_s: report.fit.examples / report.fit.seconds },
    calibration: report.calibration,
    holdout: report.holdout && {
      rows: readers.holdout!.report.rows,
      malformed: readers.holdout!.report.malformed,
      raw: metricsJson(report.holdout.raw),
      calibrated: report.holdout.calibrated && metricsJson(report.holdout.calibrated),
    },
    artifact: { path: modelPath, bytes: bytes.length },
    seconds,
  };
  await writeFile(join(flags.out, 'report.json'), `${JSON.stringify(result, null, 2)}\n`);
  for (const r of [readers.train, readers.holdout]) {
    const warning = r && malformedWarning(flags.input, r.report);
    if (warning) process.stderr.write(`pctr: ${warning}\n`);
  }
  return result;
}

export function registerTrainCommand(program: Command): void {
  const command = program
    .command('train')
    .description('Train a model on a Criteo or Avazu file (--input; writes OUT/model.pctr and OUT/report.json), or run the training pipeline on the offline store (no --input)')
    .option('--dataset <name>', `file mode: data set format: ${DATASET_KINDS.join(' | ')}`)
    .option('--input <file>', 'file mode: training data file, gzip or plain (detected by content)')
    .option('--model <kind>', `learner: ${LEARNER_KINDS.join(' | ')}`, 'ftrl')
    .option('--param <key=value>', 'learner parameter, repeatable (see below)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--out <dir>', 'file mode: output directory (created if missing)')
    .option('--holdout <fraction>', 'share of the last rows (time order) held out for calibration and metrics (default 0.1 with --calibration, else 0)', fraction(0, 1, true))
    .option('--calibration <method>', `post-hoc calibration fitted on the holdout: ${CALIBRATION_METHODS.join(' | ')}`, 'none')
    .option('--downsample <rate>', 'keep each training non-click with this probability (predictions are corrected for it)', fraction(0, 1), 1)
    .option('--json', 'print the report as one JSON object on stdout')
    .option('--no-progress', 'no progress bar on stderr')
    .addHelpText('after', `${EXAMPLES}\n${PIPELINE_HELP}`)
    .action(async (flags: TrainFlags, cmd: Command) => {
      if (flags.input === undefined) return runPipelineMode(flags, cmd);
      if (flags.dataset === undefined || flags.out === undefined) throw new PctrError('PCTR_VALIDATION', 'training on a file (--input) needs --dataset and --out');
      const r = await train(flags);
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(r)}\n`);
        return;
      }
      const h = r.holdout?.calibrated ?? r.holdout?.raw;
      process.stdout.write(
        `trained ${r.model} on ${r.fit.examples} rows in ${r.fit.seconds.toFixed(1)} s (${Math.round(r.fit.examples_per_s)} rows/s) → ${r.artifact.path}\n` +
          (h ? `holdout (${h.n} rows): ${formatMetrics(h)}\n` : ''),
      );
    });
  addPipelineMode(command);
}

export function formatMetrics(m: MetricsJson): string {
  return (['auc', 'logloss', 'ne', 'calibration'] as const).map((k) => `${k} ${m[k] === null ? 'n/a' : m[k].toFixed(4)}`).join('  ');
}
