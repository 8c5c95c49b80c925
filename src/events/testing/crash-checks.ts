/**
 * Checks shared by the transactional crash tests of both backends (fixture: crash-transactional):
 * the input, and after each kill what a reader sees and what a restore gives must agree.
 */
import { expect } from 'vitest';
import type { EventsSettings } from '../common.ts';
import type { EventLog, LogRecord } from '../event-log.ts';
import { createEventLog } from '../index.ts';

/** Append `n` input records to `in`; returns value by key. */
export async function fillInput(settings: EventsSettings, n: number): Promise<Map<string, string>> {
  const log = await createEventLog(settings);
  const input = new Map<string, string>();
  const records = Array.from({ length: n }, (_, i) => ({ key: `in-${i}`, value: JSON.stringify({ i, pad: 'x'.repeat(300) }) }));
  for (const r of records) input.set(r.key, r.value);
  await log.append('in', records);
  await log.close();
  return input;
}

async function readAll(log: EventLog, topic: string): Promise<LogRecord[]> {
  const c = log.subscribe(topic, `check-${Math.random().toString(36).slice(2)}`);
  const out: LogRecord[] = [];
  for (;;) {
    const b = await c.poll(50_000, 0);
    if (b.records.length === 0) break;
    out.push(...b.records);
  }
  await c.close();
  return out;
}

/** Every output corresponds to a distinct input and carries its value. */
function checkOutputs(out: readonly LogRecord[], input: ReadonlyMap<string, string>): void {
  const keys = new Set<string>();
  for (const r of out) {
    expect(keys.has(r.key), `output for ${r.key} appears twice`).toBe(false);
    keys.add(r.key);
    expect(r.value).toBe(`out:${input.get(r.key)}`);
  }
}

/**
 * After a run of the fixture: what a reader sees is committed output only; after a restore the
 * output per partition is exactly the outputs of the inputs the checkpoint says were consumed.
 */
export async function checkTransactionalRun(settings: EventsSettings, input: ReadonlyMap<string, string>, complete: boolean): Promise<void> {
  const log = await createEventLog(settings);
  try {
    const before = await readAll(log, 'out');
    checkOutputs(before, input);
    const tx = log.transactional('in', 'crash-job', { partitions: [0, 1, 2, 3] });
    const cp = await tx.restore();
    const inputs = await readAll(log, 'in');
    const after = await readAll(log, 'out');
    checkOutputs(after, input);
    const seen = new Set(before.map((r) => r.key));
    for (const r of after) seen.delete(r.key);
    expect(seen.size, 'a reader saw output that restore discarded').toBe(0);
    for (let p = 0; p < 4; p++) {
      const consumed = cp.offsets.get(p) ?? 0;
      const count = cp.state.get(p) == null ? 0 : (JSON.parse(cp.state.get(p) as string) as { count: number }).count;
      expect(count, `partition ${p}: state and offsets disagree`).toBe(consumed);
      const expected = inputs.filter((r) => r.partition === p && r.offset < consumed).map((r) => r.key);
      expect(after.filter((r) => r.partition === p).map((r) => r.key)).toEqual(expected);
    }
    if (complete) expect(after.length).toBe(input.size);
    await tx.close();
  } finally {
    await log.close();
  }
}
