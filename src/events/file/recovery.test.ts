import { appendFileSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fileSettings, keyIn } from '../../../test/contracts/event-log.contract.ts';
import { tempDir } from '../../../test/helpers/services.ts';
import { createEventLog, type EventLog, type FileEventLog, type LogRecord } from '../index.ts';
import { segmentFile } from './segment-io.ts';

const P = 4;

describe('file log: torn and corrupt tails', () => {
  let t: ReturnType<typeof tempDir>;
  const logs: EventLog[] = [];
  const open = async (): Promise<FileEventLog> => {
    const log = (await createEventLog(fileSettings(t.dir, { partitions: P }))) as FileEventLog;
    logs.push(log);
    return log;
  };
  const seg = (p: number) => segmentFile(`${t.dir}/t/${p}`, 0);

  beforeEach(() => {
    t = tempDir('evrec');
  });
  afterEach(async () => {
    for (const l of logs.splice(0)) await l.close();
    t.remove();
  });

  /** Append 10 records to partition 1 and close; returns their values. */
  async function writeTen(): Promise<string[]> {
    const log = await open();
    const values = Array.from({ length: 10 }, (_, i) => `{"n":${i}}`);
    await log.append('t', values.map((value, i) => ({ key: keyIn(1, `k${i}`, P), value })));
    await log.close();
    return values;
  }

  async function readAll(log: EventLog, p: number): Promise<LogRecord[]> {
    const c = log.subscribe('t', `g${Math.random()}`, { partitions: [p] });
    const out: LogRecord[] = [];
    for (;;) {
      const b = await c.poll(1000, 0);
      if (b.records.length === 0) break;
      out.push(...b.records);
    }
    await c.close();
    return out;
  }

  it('cuts a garbage tail on open, reports it and keeps every earlier record', async () => {
    const values = await writeTen();
    const goodSize = statSync(seg(1)).size;
    const garbage = Buffer.from('\x07\x00\x00\x00garbage that is not a frame at all');
    appendFileSync(seg(1), garbage);
    const log = await open();
    const reports = await log.recover();
    expect(reports).toEqual([{ topic: 't', partition: 1, segment: '00000000000000000000.seg', bytesCut: garbage.length, recordsKept: 10, reason: 'corrupt', endOffset: 10 }]);
    expect(statSync(seg(1)).size).toBe(goodSize);
    expect((await readAll(log, 1)).map((r) => r.value)).toEqual(values);
    const ack = await log.append('t', [{ key: keyIn(1, 'after', P), value: 'after' }]);
    expect(ack.offsets[0]).toEqual({ partition: 1, offset: 10 });
    expect((await readAll(log, 1)).map((r) => r.value)).toEqual([...values, 'after']);
  });

  it('cuts a last record whose CRC does not match', async () => {
    const values = await writeTen();
    const buf = readFileSync(seg(1));
    buf[buf.length - 3] ^= 0x20;
    writeFileSync(seg(1), buf);
    const log = await open();
    const [report] = await log.recover();
    expect(report).toMatchObject({ partition: 1, recordsKept: 9, reason: 'corrupt', endOffset: 9 });
    expect(report.bytesCut).toBe(8 + 2 + Buffer.byteLength(keyIn(1, 'k9', P)) + values[9].length);
    expect(log.recoveries).toEqual([report]);
    expect((await readAll(log, 1)).map((r) => r.value)).toEqual(values.slice(0, 9));
  });

  it('cuts a torn last record (a crash in the middle of a write)', async () => {
    const values = await writeTen();
    truncateSync(seg(1), statSync(seg(1)).size - 4);
    const log = await open();
    expect(await log.recover()).toMatchObject([{ partition: 1, recordsKept: 9, reason: 'incomplete', endOffset: 9 }]);
    expect((await readAll(log, 1)).map((r) => r.value)).toEqual(values.slice(0, 9));
  });

  it('opens a clean log without reports', async () => {
    await writeTen();
    const log = await open();
    expect(await log.recover()).toEqual([]);
  });

  it('lets another instance read while a torn frame is still being written, without misreading it', async () => {
    const values = await writeTen();
    const reader = await open();
    const c = reader.subscribe('t', 'g', { partitions: [1] });
    expect((await c.poll(100, 0)).records.map((r) => r.value)).toEqual(values);
    const frame = Buffer.alloc(8 + 2 + 1 + 5);
    frame.writeUInt32LE(8, 0);
    appendFileSync(seg(1), frame.subarray(0, 6));
    expect((await c.poll(100, 30)).records).toEqual([]);
    expect(reader.recoveries).toEqual([]);
    const writer = await open();
    const ack = await writer.append('t', [{ key: keyIn(1, 'w', P), value: 'written' }]);
    expect(writer.recoveries).toMatchObject([{ partition: 1, reason: 'incomplete', bytesCut: 6 }]);
    expect(ack.offsets[0].offset).toBe(10);
    const b = await c.poll(100, 2000);
    expect(b.records.map((r) => [r.offset, r.value])).toEqual([[10, 'written']]);
  });
});
