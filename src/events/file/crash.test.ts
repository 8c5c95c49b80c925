/**
 * kill -9 tests of the file log with real child processes: every acknowledged append survives and
 * the log reopens cleanly; a transactional consumer killed at random points emits each output
 * exactly once, and after every kill the visible output matches the restored checkpoint.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fileSettings } from '../../../test/contracts/event-log.contract.ts';
import { tempDir } from '../../../test/helpers/services.ts';
import { createEventLog, type EventLog, type FileEventLog, type LogRecord } from '../index.ts';
import { fixturePath, runChild } from '../testing/child-process.ts';
import { checkTransactionalRun, fillInput } from '../testing/crash-checks.ts';

const KILLS = 6;

async function readTopic(log: EventLog, topic: string): Promise<LogRecord[]> {
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

describe('file log: crashes (kill -9)', () => {
  let t: ReturnType<typeof tempDir>;
  beforeEach(() => {
    t = tempDir('evcrash');
  });
  afterEach(() => t.remove());

  it('keeps every acknowledged append across SIGKILLs of the producer, and reopens cleanly', { timeout: 120_000 }, async () => {
    const acked: string[] = [];
    for (let run = 0; run < KILLS; run++) {
      const killAt = 200 + Math.floor(Math.random() * 3000);
      const r = await runChild(fixturePath('crash-producer.fixture.ts'), [`file:${t.dir}`, `run${run}`], killAt);
      expect(r.killed, r.stderr).toBe(true);
      acked.push(...r.lines);

      const log = (await createEventLog(fileSettings(t.dir, { partitions: 4 }))) as FileEventLog;
      for (const rep of await log.recover()) expect(rep.bytesCut).toBeGreaterThan(0);
      const all = await readTopic(log, 'crash');
      const at = new Map(all.map((rec) => [`${rec.partition} ${rec.offset}`, rec]));
      for (const line of acked) {
        const [p, offset, key] = line.split(' ');
        const rec = at.get(`${p} ${offset}`);
        expect(rec?.key, `acknowledged record ${line} is missing`).toBe(key);
        expect((JSON.parse(rec?.value ?? '{}') as { key: string }).key).toBe(key);
      }
      expect(new Set(all.map((rec) => rec.key)).size).toBe(all.length);
      await log.close();
    }
    expect(acked.length).toBeGreaterThan(KILLS * 200);
  });

  it('emits each transactional output exactly once across SIGKILLs, and restore matches visible output', { timeout: 120_000 }, async () => {
    const url = `file:${t.dir}`;
    const settings = fileSettings(t.dir, { partitions: 4 });
    const input = await fillInput(settings, 20_000);
    for (let run = 0; run < KILLS; run++) {
      const r = await runChild(fixturePath('crash-transactional.fixture.ts'), [url], 3 + Math.floor(Math.random() * 40));
      expect(r.killed, r.stderr).toBe(true);
      await checkTransactionalRun(settings, input, false);
    }
    const last = await runChild(fixturePath('crash-transactional.fixture.ts'), [url]);
    expect(last.lines.at(-1), last.stderr).toBe('done');
    await checkTransactionalRun(settings, input, true);
  });
});
