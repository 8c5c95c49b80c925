/**
 * register: the challenger becomes a registry version — whatever the gate said, so a rejected model
 * stays inspectable — with its lineage (data range, parent = the champion it was compared with, run
 * id, params, code version), test metrics and the gate's reason as description. The artifact is
 * re-read, checked against the digest taken at training and decoded first: a corrupt file fails the
 * run and is never registered. The registry idempotency key `<runId>.register` makes a re-run of
 * this step (a retry, or a worker killed mid-step) return the version registered the first time.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PctrError } from '../../../core/index.ts';
import { loadModel } from '../../../models/index.ts';
import type { StepDef } from '../../dag.ts';
import { codeVersion } from '../code-version.ts';
import { runDir, type BatchPipelineDeps } from '../deps.ts';
import type { BatchParams } from '../params.ts';
import type { EvaluateOutput } from './evaluate.step.ts';
import type { ExtractOutput } from './extract.step.ts';
import type { TrainOutput } from './train.step.ts';

export interface RegisterOutput {
  readonly version: number;
  readonly digest: string;
}

function finiteMetrics(m: Record<string, number | null | undefined>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(m)) if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
  return out;
}

export function registerStep(deps: BatchPipelineDeps): StepDef<BatchParams> {
  return {
    name: 'register',
    deps: ['extract', 'train', 'evaluate'],
    async run(ctx): Promise<RegisterOutput> {
      const ex = ctx.inputs.extract as ExtractOutput;
      const tr = ctx.inputs.train as TrainOutput;
      const ev = ctx.inputs.evaluate as EvaluateOutput;
      const path = join(runDir(deps.workDir, ctx.runId), tr.artifact);
      const bytes = await readFile(path);
      const digest = createHash('sha256').update(bytes).digest('hex');
      if (digest !== tr.digest) {
        throw new PctrError('PCTR_ARTIFACT_CORRUPT', `artifact ${path} changed since training (sha256 ${digest}, trained ${tr.digest}); not registering it`);
      }
      const model = loadModel(bytes);
      const p = ctx.params;
      const v = await deps.registry.register(
        p.modelName,
        bytes,
        {
          kind: model.kind,
          params: { ...p.learner, calibration: p.calibration, sampleNegatives: p.sampleNegatives, testFraction: p.testFraction, calibrationFraction: p.calibrationFraction },
          metrics: finiteMetrics({
            auc: ev.challenger.auc,
            logloss: ev.challenger.logloss,
            ne: ev.challenger.ne,
            calibration: ev.challenger.calibration,
            test_rows: ev.challenger.n,
            train_rows: tr.fit.examples,
            champion_auc: ev.champion?.auc,
            champion_logloss: ev.champion?.logloss,
            baseline_logloss: ev.baseline.logloss,
          }),
          dataRange: { from: ex.train.from, to: ex.test.to, rows: ex.rows },
          ...(ev.championVersion !== null ? { parentVersion: ev.championVersion } : {}),
          codeVersion: deps.codeVersion ?? codeVersion(),
          runId: ctx.runId,
          description: `${ev.gate.promote ? 'gate passed' : 'gate refused'}: ${ev.gate.reason}`,
          idempotencyKey: `${ctx.runId}.register`,
        },
        { expectedDigest: digest },
      );
      ctx.logger.info({ version: v.version }, 'registered challenger');
      return { version: v.version, digest: v.digest };
    },
  };
}
