import type { AliasAction } from './registry.ts';

export interface HistoryStep {
  readonly action: AliasAction;
  readonly fromVersion: number | null;
  readonly toVersion: number | null;
}

/**
 * Where a rollback of an alias goes, given its history (oldest first) and current version; null
 * when there is nowhere to go. The history is read as a stack of versions left behind: every
 * set or delete pushes the version it left, every rollback pops back to the version it restored.
 * So repeated rollbacks walk further back (3 → 2 → 1) instead of bouncing between two versions,
 * and a version equal to the current one is skipped (re-promoting the same version is no step).
 */
export function rollbackTarget(history: readonly HistoryStep[], current: number | null): number | null {
  const left: number[] = [];
  for (const step of history) {
    if (step.action === 'rollback') {
      while (left.length > 0 && left.pop() !== step.toVersion);
    } else if (step.fromVersion !== null) {
      left.push(step.fromVersion);
    }
  }
  while (left.length > 0 && left[left.length - 1] === current) left.pop();
  return left.length > 0 ? left[left.length - 1] : null;
}
