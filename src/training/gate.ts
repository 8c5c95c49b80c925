/**
 * The promotion gate, shared by the batch pipeline and the continuous learner: a challenger replaces
 * the champion only if, on the same held-out examples, its AUC ≥ the champion's + minAucGain and its
 * logloss ≤ the champion's × maxLoglossRatio. With no champion to compare with, it must beat the
 * base-rate predictor (constant CTR) by the same margins: AUC 0.5, and the constant's logloss.
 * Every decision comes with a reason that names the numbers it compared.
 */
import { z } from 'zod';

export const GateConfig = z.strictObject({
  /** Promote only if challenger AUC ≥ reference AUC + this. */
  minAucGain: z.number().min(-1).max(1).default(0),
  /** Promote only if challenger logloss ≤ reference logloss × this. */
  maxLoglossRatio: z.number().positive().max(10).default(1),
});
export type GateConfig = z.output<typeof GateConfig>;

export interface ScoredModel {
  readonly auc: number;
  readonly logloss: number;
}

export interface GateReference extends ScoredModel {
  readonly kind: 'champion' | 'baseline';
  /** `champion v7`, `the served champion`, `the base rate 0.0312`. */
  readonly label: string;
  /** The champion's version, null when the reference is the base rate. */
  readonly version: number | null;
}

export interface GateDecision {
  readonly promote: boolean;
  readonly reason: string;
  readonly against: 'champion' | 'baseline';
  readonly championVersion: number | null;
  readonly challenger: ScoredModel;
  readonly reference: ScoredModel & { readonly label: string };
}

const f = (x: number): string => (Number.isFinite(x) ? x.toFixed(4) : String(x));

/** Base-rate predictor: always the training CTR p, scored on labels with observed rate q. */
export function baseRateReference(trainCtr: number, evalPositives: number, evalRows: number): GateReference {
  const p = Math.min(Math.max(trainCtr, 1e-6), 1 - 1e-6);
  const q = evalRows > 0 ? evalPositives / evalRows : NaN;
  const logloss = -(q * Math.log(p) + (1 - q) * Math.log(1 - p));
  return { kind: 'baseline', label: `the base rate ${trainCtr.toFixed(4)}`, version: null, auc: 0.5, logloss };
}

export function decideGate(challenger: ScoredModel, reference: GateReference, gate: GateConfig): GateDecision {
  const base = { against: reference.kind, championVersion: reference.version, challenger: { auc: challenger.auc, logloss: challenger.logloss }, reference: { label: reference.label, auc: reference.auc, logloss: reference.logloss } } as const;
  const aucNeeded = reference.auc + gate.minAucGain;
  const loglossAllowed = reference.logloss * gate.maxLoglossRatio;
  const failures: string[] = [];
  if (!Number.isFinite(challenger.auc) || !Number.isFinite(challenger.logloss)) {
    failures.push(`the challenger's metrics are undefined (AUC ${f(challenger.auc)}, logloss ${f(challenger.logloss)})`);
  } else {
    if (!(challenger.auc >= aucNeeded)) failures.push(`AUC ${f(challenger.auc)} < ${reference.label}'s ${f(reference.auc)} + ${gate.minAucGain}`);
    if (!(challenger.logloss <= loglossAllowed)) failures.push(`logloss ${f(challenger.logloss)} > ${reference.label}'s ${f(reference.logloss)} × ${gate.maxLoglossRatio}`);
  }
  if (failures.length > 0) return { ...base, promote: false, reason: `kept ${reference.label}: ${failures.join('; ')}` };
  return {
    ...base,
    promote: true,
    reason: `beats ${reference.label}: AUC ${f(challenger.auc)} ≥ ${f(reference.auc)} + ${gate.minAucGain}, logloss ${f(challenger.logloss)} ≤ ${f(reference.logloss)} × ${gate.maxLoglossRatio}`,
  };
}
