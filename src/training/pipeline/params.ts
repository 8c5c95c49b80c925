/**
 * Parameters of a batch pipeline run, stored with the run (defaults filled in), so every worker
 * that runs one of its steps — in this process or another — reads the same settings. The event-time
 * range is not here: it is the run's own `range`.
 */
import { z } from 'zod';
import { CALIBRATION_METHODS, LEARNER_KINDS, isLearnerKind, learnerParamNames } from '../../models/index.ts';
import { GateConfig } from '../gate.ts';
import { ValidationConfig } from './validation.ts';

export const BatchParams = z
  .strictObject({
    /** Registered model the run trains and may promote. */
    modelName: z.string().regex(/^[\w.-]{1,100}$/, 'must be 1-100 letters, digits, . - _').default('ctr'),
    /** Learner kind (models' factory). */
    kind: z.string().default('ftrl'),
    /** Learner parameters (validated by the learner; values may be strings from the command line). */
    learner: z.record(z.string(), z.unknown()).default({}),
    /** Keep each training non-click with this probability (1 = keep all); held-out slices are never downsampled. */
    sampleNegatives: z.number().gt(0).max(1).default(1),
    seed: z.number().int().default(1),
    /** Latest share of the range's time span held out for evaluation against the champion. */
    testFraction: z.number().gt(0).max(0.5).default(0.1),
    /** Share of the span just before the test slice on which post-hoc calibration is fitted (0 = none). */
    calibrationFraction: z.number().min(0).max(0.5).default(0.1),
    calibration: z.enum(CALIBRATION_METHODS).default('platt'),
    gate: GateConfig.prefault({}),
    /** false: register the model and record the gate decision, but never move the champion (backfill). */
    promote: z.boolean().default(true),
    validation: ValidationConfig.prefault({}),
  })
  .superRefine((p, ctx) => {
    if (!isLearnerKind(p.kind)) {
      ctx.addIssue({ code: 'custom', path: ['kind'], message: `unknown model kind "${p.kind}" (known: ${LEARNER_KINDS.join(', ')})` });
      return;
    }
    const known = new Set(learnerParamNames(p.kind));
    const unknown = Object.keys(p.learner).filter((k) => !known.has(k));
    if (unknown.length) ctx.addIssue({ code: 'custom', path: ['learner'], message: `unknown ${p.kind} parameter${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (known: ${[...known].join(', ')})` });
    if (p.calibration !== 'none' && p.calibrationFraction === 0) {
      ctx.addIssue({ code: 'custom', path: ['calibration'], message: `${p.calibration} calibration needs calibrationFraction > 0` });
    }
    if (p.testFraction + p.calibrationFraction >= 0.9) {
      ctx.addIssue({ code: 'custom', path: ['testFraction'], message: 'testFraction + calibrationFraction must leave at least 10% of the range for training' });
    }
  });
export type BatchParams = z.output<typeof BatchParams>;
export type BatchParamsInput = z.input<typeof BatchParams>;
