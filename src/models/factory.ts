/**
 * The one place that knows every learner: `createLearner(kind, params, schema)` validates the
 * parameters with the learner's own schema, and `loadModel(bytes)` turns an artifact back into a
 * model by its header's kind. Adding a learner means one case in each switch.
 */
import type { z } from 'zod';
import { PctrError } from '../core/index.ts';
import type { FeatureSchema } from '../core/index.ts';
import { decodeArtifact } from './artifact.ts';
import { FfmLearner, FfmParams } from './learners/ffm.ts';
import { FmLearner, FmParams } from './learners/fm.ts';
import { FtrlLearner, FtrlParams } from './learners/ftrl.ts';
import { GbdtLearner } from './learners/gbdt/gbdt.ts';
import { GbdtParams } from './learners/gbdt/params.ts';
import { GbdtLrLearner, GbdtLrParams } from './learners/gbdt-lr.ts';
import { DcnLearner, DcnParams } from './learners/dcn/dcn.ts';
import { OnnxModel, ONNX_KIND } from './onnx/onnx-model.ts';
import type { Artifact, Model } from './model.ts';
import type { CalibratedLearner } from './training/train-model.ts';

export const LEARNER_KINDS = ['ftrl', 'fm', 'ffm', 'dcn', 'gbdt', 'gbdt-lr'] as const;
export type LearnerKind = (typeof LEARNER_KINDS)[number];

export function isLearnerKind(s: string): s is LearnerKind {
  return (LEARNER_KINDS as readonly string[]).includes(s);
}

function parseParams<S extends z.ZodType>(kind: LearnerKind, schema: S, params: Readonly<Record<string, unknown>>): z.output<S> {
  const r = schema.safeParse(params);
  if (r.success) return r.data;
  const problems = r.error.issues.map((i) =>
    i.code === 'unrecognized_keys' ? `unknown parameter${i.keys.length > 1 ? 's' : ''} ${i.keys.join(', ')}` : `${i.path.join('.')}: ${i.message}`,
  );
  throw new PctrError('PCTR_VALIDATION', `invalid ${kind} parameters: ${problems.join('; ')}`, { details: { problems } });
}

/** Parameter names a learner accepts (for help texts and error messages). */
export function learnerParamNames(kind: LearnerKind): string[] {
  switch (kind) {
    case 'ftrl':
      return Object.keys(FtrlParams.shape);
    case 'gbdt':
      return Object.keys(GbdtParams.shape);
    case 'gbdt-lr':
      return Object.keys(GbdtLrParams.shape);
    case 'fm':
      return Object.keys(FmParams.shape);
    case 'ffm':
      return Object.keys(FfmParams.shape);
    case 'dcn':
      return Object.keys(DcnParams.shape);
  }
}

export function createLearner(kind: LearnerKind, params: Readonly<Record<string, unknown>>, schema: FeatureSchema): CalibratedLearner {
  switch (kind) {
    case 'ftrl':
      return new FtrlLearner(schema, parseParams(kind, FtrlParams, params));
    case 'gbdt':
      return new GbdtLearner(schema, parseParams(kind, GbdtParams, params));
    case 'gbdt-lr':
      return new GbdtLrLearner(schema, parseParams(kind, GbdtLrParams, params));
    case 'fm':
      return new FmLearner(schema, parseParams(kind, FmParams, params));
    case 'ffm':
      return new FfmLearner(schema, parseParams(kind, FfmParams, params));
    case 'dcn':
      return new DcnLearner(schema, parseParams(kind, DcnParams, params));
    default:
      throw new PctrError('PCTR_VALIDATION', `unknown model kind "${String(kind)}" (known: ${LEARNER_KINDS.join(', ')})`);
  }
}

export function modelFromArtifact(artifact: Artifact): Model {
  const kind = artifact.header.kind;
  // Imported, not trained by pctr: no learner kind, but loaded like one (scores with predictAsync).
  if (kind === ONNX_KIND) return OnnxModel.fromArtifact(artifact);
  if (!isLearnerKind(kind)) {
    throw new PctrError('PCTR_MODEL_LOAD_FAILED', `artifact holds a "${kind}" model, which this pctr cannot load (known: ${LEARNER_KINDS.join(', ')})`);
  }
  switch (kind) {
    case 'ftrl':
      return FtrlLearner.fromArtifact(artifact);
    case 'gbdt':
      return GbdtLearner.fromArtifact(artifact);
    case 'gbdt-lr':
      return GbdtLrLearner.fromArtifact(artifact);
    case 'fm':
      return FmLearner.fromArtifact(artifact);
    case 'ffm':
      return FfmLearner.fromArtifact(artifact);
    case 'dcn':
      return DcnLearner.fromArtifact(artifact);
  }
}

/** Decodes and loads an artifact file's bytes; PCTR_ARTIFACT_CORRUPT when they do not check out. */
export function loadModel(bytes: Uint8Array): Model {
  return modelFromArtifact(decodeArtifact(bytes));
}

/** `k=v` command-line pairs as a parameter record (values stay strings; learners coerce them). */
export function parseParamPairs(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new PctrError('PCTR_VALIDATION', `--param ${pair} is not key=value`);
    out[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return out;
}
