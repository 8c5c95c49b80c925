/**
 * promote: moves `champion` to the new version if the gate passed and the run may promote, with a
 * compare-and-set against the champion the run was evaluated against — a champion that moved
 * meanwhile is never overwritten by a model compared with something else. The decision and its
 * reason are recorded on the run (and the alias history when promoted).
 */
import { isPctrError } from '../../../core/index.ts';
import type { StepDef } from '../../dag.ts';
import type { GateRecord } from '../../run-store/run-store.ts';
import type { BatchPipelineDeps } from '../deps.ts';
import type { BatchParams } from '../params.ts';
import { currentChampion, type EvaluateOutput } from './evaluate.step.ts';
import type { RegisterOutput } from './register.step.ts';

export type PromoteOutput = GateRecord;

export function promoteStep(deps: BatchPipelineDeps): StepDef<BatchParams> {
  return {
    name: 'promote',
    deps: ['evaluate', 'register'],
    async run(ctx): Promise<PromoteOutput> {
      const ev = ctx.inputs.evaluate as EvaluateOutput;
      const { version } = ctx.inputs.register as RegisterOutput;
      const name = ctx.params.modelName;
      const base = { version, championVersion: ev.championVersion };
      let gate: GateRecord;
      if (!ev.gate.promote) {
        gate = { ...base, promoted: false, reason: ev.gate.reason };
      } else if (!ctx.params.promote) {
        gate = { ...base, promoted: false, reason: `promotion is off for this ${ctx.trigger} run; the gate would have passed: ${ev.gate.reason}` };
      } else {
        try {
          await deps.registry.setAlias(name, 'champion', version, { reason: `run ${ctx.runId}: ${ev.gate.reason}`, expectedVersion: ev.championVersion });
          gate = { ...base, promoted: true, reason: ev.gate.reason };
        } catch (e) {
          if (!isPctrError(e, 'PCTR_CONFLICT')) throw e;
          const now = await currentChampion(deps, name);
          // A retry after a crash that followed a successful move finds its own version there.
          gate =
            now?.version === version
              ? { ...base, promoted: true, reason: ev.gate.reason }
              : { ...base, promoted: false, reason: `the champion moved to v${now?.version ?? '(none)'} during the run (evaluated against ${ev.championVersion === null ? 'no champion' : `v${ev.championVersion}`}); not promoted` };
        }
      }
      await deps.runs.recordGate(ctx.runId, gate);
      ctx.logger.info({ promoted: gate.promoted, version }, gate.reason);
      return gate;
    },
  };
}
