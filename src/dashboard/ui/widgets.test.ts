import { describe, expect, it } from 'vitest';
import type { Alert } from '../api/types.ts';
import { alertLines } from './widgets.ts';

const alert = (over: Partial<Alert>): Alert => ({
  id: 'x',
  rule: 'drift',
  severity: 'warn',
  subject: 'f',
  box: 'feature_store',
  message: 'm',
  since: 1000,
  value: 0.3,
  threshold: 0.2,
  ...over,
});

describe('alert lines', () => {
  it('keeps single alerts as they are, red before amber', () => {
    const lines = alertLines([alert({ id: 'drift:a', subject: 'a', message: 'a drifted' }), alert({ id: 'join_lag', rule: 'join_lag', severity: 'alert', message: 'lag', since: 2000 })]);
    expect(lines.map((l) => [l.id, l.count])).toEqual([
      ['join_lag', 1],
      ['drift:a', 1],
    ]);
  });

  it('summarizes a rule firing for many subjects in one line, worst first', () => {
    const many = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((f, i) => alert({ id: `drift:${f}`, subject: f, value: 0.21 + i * 0.1, since: 5000 - i }));
    const [line] = alertLines(many);
    expect(line.count).toBe(8);
    expect(line.since).toBe(4993);
    expect(line.message).toBe('8 × drift (threshold 0.2): h (0.910), g (0.810), f (0.710), e (0.610), d (0.510), c (0.410) and 2 more');
  });
});
