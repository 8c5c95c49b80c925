/**
 * A/B assignment: a user is in the challenger group when the hash of their userId falls below the
 * configured share. The assignment is stable (the same user always sees the same arm while the
 * share is unchanged, across gateways and restarts) and independent of other hash uses by its salt.
 */
import { unitInterval } from '../core/index.ts';

/** Salt of the A/B hash, so the split is uncorrelated with partitioning and feature hashing. */
export const AB_SALT = 0x5eed_ab01;

export class AbRouter {
  constructor(readonly challengerShare: number) {}

  /** True when this user is served by the challenger (when one is loaded). */
  inChallengerGroup(userId: string): boolean {
    return this.challengerShare > 0 && unitInterval(userId, AB_SALT) < this.challengerShare;
  }
}
