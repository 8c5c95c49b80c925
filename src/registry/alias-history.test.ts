import { describe, expect, it } from 'vitest';
import { rollbackTarget, type HistoryStep } from './alias-history.ts';

const set = (from: number | null, to: number): HistoryStep => ({ action: 'set', fromVersion: from, toVersion: to });
const back = (from: number, to: number): HistoryStep => ({ action: 'rollback', fromVersion: from, toVersion: to });

describe('rollbackTarget', () => {
  it('has nowhere to go before a second promotion', () => {
    expect(rollbackTarget([], null)).toBeNull();
    expect(rollbackTarget([set(null, 1)], 1)).toBeNull();
  });

  it('walks further back on repeated rollbacks', () => {
    const h = [set(null, 1), set(1, 2), set(2, 3)];
    expect(rollbackTarget(h, 3)).toBe(2);
    expect(rollbackTarget([...h, back(3, 2)], 2)).toBe(1);
    expect(rollbackTarget([...h, back(3, 2), back(2, 1)], 1)).toBeNull();
  });

  it('returns to the version before the latest promotion after a rollback and a new promotion', () => {
    expect(rollbackTarget([set(null, 1), set(1, 2), back(2, 1), set(1, 3)], 3)).toBe(1);
  });

  it('skips versions equal to the current one', () => {
    const deleted: HistoryStep = { action: 'delete', fromVersion: 2, toVersion: null };
    expect(rollbackTarget([set(null, 1), set(1, 2), deleted, set(null, 2)], 2)).toBe(1);
  });

  it('goes back to a version promoted earlier again when it was left last', () => {
    expect(rollbackTarget([set(null, 1), set(1, 2), set(2, 1), set(1, 2)], 2)).toBe(1);
    expect(rollbackTarget([set(null, 1), set(1, 2), set(2, 1)], 1)).toBe(2);
  });

  it('restores the version an alias had before it was deleted', () => {
    const deleted: HistoryStep = { action: 'delete', fromVersion: 4, toVersion: null };
    expect(rollbackTarget([set(null, 4), deleted], null)).toBe(4);
  });
});
