/**
 * `pctr eval`: score a labeled Criteo or Avazu file with a trained model (DIR/model.pctr, as
 * `pctr train` writes it) and report AUC, logloss, normalized entropy and calibration. With
 * --json, stdout is one JSON object.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { PctrError } from '../../core/index.ts';
import { DATASET_KINDS, datasetSchema, isDatasetKind, readDataset } from '../../datasets/index.ts';
import { evaluateModel, loadModel, type Model } from '../../models/index.ts';
import { formatMetrics, malformedWarning, metricsJson, startProgress, type MetricsJson } from './train.command.ts';

interface EvalFlags {
  model: string;
  dataset: string;
  input: string;
  json?: boolean;
  progress: boolean;
}

const EXAMPLES = `
Examples:
  $ pctr eval --model models/ftrl --dataset criteo --input test.tsv.gz
  $ pctr eval --model models/ftrl/model.pctr --dataset criteo --input test.tsv.gz --json
      {"n":2988,"auc":0.72,"logloss":0.47,"ne":0.90,"calibration":0.98,...}

ne is logloss ÷ entropy of the observed click rate (below 1 beats predicting the base rate);
calibration is mean predicted CTR ÷ observed CTR (1 = calibrated on average).`;

/** Loads DIR/model.pctr (or the file itself when --model names a file). */
export async function loadModelFrom(path: string): Promise<Model> {
  let file = path;
  try {
    if ((await stat(path)).isDirectory()) file = join(path, 'model.pctr');
    return loadModel(await readFile(file));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new PctrError('PCTR_NOT_FOUND', `no model at ${file} (train one with \`pctr train --out DIR\`)`, { cause: e });
    if (e instanceof PctrError) throw new PctrError(e.code, `${file}: ${e.message}`, { cause: e, details: e.details });
    throw e;
  }
}

export type EvalResult = MetricsJson & { readonly malformed: number; readonly model: string; readonly input: string };

async function evaluateFile(flags: EvalFlags): Promise<EvalResult> {
  if (!isDatasetKind(flags.dataset)) throw new PctrError('PCTR_VALIDATION', `--dataset must be one of ${DATASET_KINDS.join(', ')}, got "${flags.dataset}"`);
  const model = await loadModelFrom(flags.model);
  const available = new Set(datasetSchema(flags.dataset).fields.map((f) => f.name));
  const lacking = model.schema.fields.filter((f) => !available.has(f.name)).map((f) => f.name);
  if (lacking.length > 0) {
    throw new PctrError('PCTR_VALIDATION', `the model reads fields ${lacking.slice(0, 5).join(', ')}${lacking.length > 5 ? ', …' : ''} that ${flags.dataset} data lacks: was it trained on another data set?`);
  }
  const reader = readDataset(flags.dataset, flags.input);
  const progress = startProgress(flags.progress && !flags.json, 'eval');
  let metrics;
  try {
    metrics = await evaluateModel(
      model,
      (async function* () {
        for await (const batch of reader) {
          progress.update(reader.progress());
          yield batch;
        }
      })(),
    );
  } finally {
    progress.stop();
  }
  const warning = malformedWarning(flags.input, reader.report);
  if (warning) process.stderr.write(`pctr: ${warning}\n`);
  return { ...metricsJson(metrics), malformed: reader.report.malformed, model: model.kind, input: flags.input };
}

export function registerEvalCommand(program: Command): void {
  program
    .command('eval')
    .description('Evaluate a trained model on a labeled Criteo or Avazu file: AUC, logloss, NE, calibration')
    .requiredOption('--model <dir>', 'model directory written by `pctr train --out` (or its model.pctr)')
    .requiredOption('--dataset <name>', `data set format: ${DATASET_KINDS.join(' | ')}`)
    .requiredOption('--input <file>', 'labeled data file, gzip or plain')
    .option('--json', 'print one JSON object: n, auc, logloss, ne, calibration, reliability buckets, malformed rows')
    .option('--no-progress', 'no progress bar on stderr')
    .addHelpText('after', EXAMPLES)
    .action(async (flags: EvalFlags) => {
      const r = await evaluateFile(flags);
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(r)}\n`);
        return;
      }
      process.stdout.write(`${r.model} on ${r.input} (${r.n} rows, ${r.positives} clicks): ${formatMetrics(r)}\n`);
      for (const b of r.reliability) {
        process.stdout.write(`  pCTR ${b.lo.toFixed(4)}–${b.hi.toFixed(4)}: n ${b.count}, mean pCTR ${b.mean_pctr.toFixed(4)}, observed CTR ${b.observed_ctr.toFixed(4)}\n`);
      }
    });
}
