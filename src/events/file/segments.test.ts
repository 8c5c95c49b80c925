import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fileSettings, keyIn } from '../../../test/contracts/event-log.contract.ts';
import { tempDir } from '../../../test/helpers/services.ts';
import { isPctrError } from '../../core/index.ts';
import { createEventLog, type EventsSettings, type FileEventLog, type LogRecord } from '../index.ts';
import { recordSource } from '../record-buffer.ts';
import { listSegments, segmentFile } from './segment-io.ts';

const P = 2;

describe('file log: segments, retention, locks, readers in other processes', () => {
  let t: ReturnType<typeof tempDir>;
  const logs: FileEventLog[] = [];
  const open = async (o: Partial<EventsSettings> = {}): Promise<FileEventLog> => {
    const log = (await createEventLog(fileSettings(t.dir, { partitions: P, ...o }))) as FileEventLog;
    logs.push(log);
    return log;
  };
  const dir = (p: number, topic = 't') => `${t.dir}/${topic}/${p}`;
  const records = (n: number, p: number, tag = 'r') => Array.from({ length: n }, (_, i) => ({ key: keyIn(p, `${tag}${i}`, P), value: `${tag}:${i}:${'v'.repeat(180)}` }));

  async function drain(log: FileEventLog, group: string, p: number, topic = 't'): Promise<LogRecord[]> {
    const c = log.subscribe(topic, group, { partitions: [p] });
    const out: LogRecord[] = [];
    for (;;) {
      const b = await c.poll(37, 0);
      if (b.records.length === 0) break;
      out.push(...b.records);
    }
    await c.close();
    return out;
  }

  beforeEach(() => {
    t = tempDir('evseg');
  });
  afterEach(async () => {
    for (const l of logs.splice(0)) await l.close();
    t.remove();
  });

  it('rolls segments at segmentBytes and reads across them, also after a reopen', async () => {
    const log = await open({ segmentBytes: 4096 });
    const recs = records(100, 0);
    await log.append('t', recs.slice(0, 60));
    await log.append('t', recs.slice(60));
    const bases = listSegments(dir(0));
    expect(bases.length).toBeGreaterThanOrEqual(5);
    expect(bases[0]).toBe(0);
    expect((await drain(log, 'a', 0)).map((r) => [r.offset, r.value])).toEqual(recs.map((r, i) => [i, r.value]));
    const c = log.subscribe('t', 'mid', { partitions: [0] });
    await c.commit({ records: [], nextOffsets: new Map([[0, bases[2] + 1]]), nextOffsetsByTopic: new Map() });
    await c.close();
    await log.close();
    const again = await open({ segmentBytes: 4096 });
    expect(await again.endOffsets('t')).toEqual([100, 0]);
    expect((await drain(again, 'mid', 0)).map((r) => r.offset)).toEqual(recs.slice(bases[2] + 1).map((_, i) => bases[2] + 1 + i));
    const ack = await again.append('t', records(1, 0, 'late'));
    expect(ack.offsets[0].offset).toBe(100);
  });

  it('deletes the oldest whole segments beyond retentionBytes, never the active one', async () => {
    const log = await open({ segmentBytes: 4096, retentionBytes: 10_000 });
    await log.append('t', records(100, 0));
    const bases = listSegments(dir(0));
    expect(bases[0]).toBeGreaterThan(0);
    expect(bases.length).toBeLessThanOrEqual(4);
    const kept = await drain(log, 'fresh', 0);
    expect(kept[0].offset).toBe(bases[0]);
    expect(kept[kept.length - 1].offset).toBe(99);
  });

  it('deletes segments older than retentionMs', async () => {
    const log = await open({ segmentBytes: 4096, retentionMs: 3_600_000 });
    await log.append('t', records(60, 0));
    const bases = listSegments(dir(0));
    const old = (Date.now() - 7_200_000) / 1000;
    for (const b of bases) utimesSync(segmentFile(dir(0), b), old, old);
    log.applyRetention();
    expect(listSegments(dir(0))).toEqual([bases[bases.length - 1]]);
    expect((await drain(log, 'x', 0)).map((r) => r.offset)[0]).toBe(bases[bases.length - 1]);
  });

  it('lets one writer own a partition: a second instance is refused, a dead owner is taken over', async () => {
    const a = await open();
    await a.append('t', records(1, 0));
    const b = await open();
    const err = await b.append('t', records(1, 0, 'b')).catch((e: unknown) => e);
    expect(isPctrError(err, 'PCTR_CONFLICT')).toBe(true);
    expect((err as Error).message).toMatch(/topic t partition 0 is locked by another instance in this process/);
    await b.append('t', records(1, 1, 'other-partition'));
    await a.close();
    await b.append('t', records(1, 0, 'b'));

    const dead = spawnSync(process.execPath, ['-e', '0']).pid as number;
    mkdirSync(dir(0, 'u'), { recursive: true });
    writeFileSync(`${dir(0, 'u')}/writer.lock`, `${dead} stale\n`);
    const c = await open();
    expect((await c.append('u', records(1, 0))).offsets[0].offset).toBe(0);

    const live = spawn('sleep', ['30']);
    mkdirSync(dir(0, 'v'), { recursive: true });
    writeFileSync(`${dir(0, 'v')}/writer.lock`, `${live.pid} other\n`);
    const err2 = await c.append('v', records(1, 0)).catch((e: unknown) => e);
    expect((err2 as Error).message).toMatch(new RegExp(`locked by process ${live.pid}`));
    live.kill('SIGKILL');
  });

  it('serves readers in another instance: appends are noticed and waits end on them', async () => {
    const writer = await open();
    const reader = await open();
    await writer.append('t', records(5, 1));
    const c = reader.subscribe('t', 'g', { partitions: [1] });
    expect((await c.poll(100, 1000)).records).toHaveLength(5);
    const t0 = Date.now();
    const waiting = c.poll(100, 10_000);
    await writer.append('t', records(3, 1, 'more'));
    expect((await waiting).records.map((r) => r.offset)).toEqual([5, 6, 7]);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(await reader.endOffsets('t')).toEqual([0, 8]);
  });

  it('follows the writer of another instance across segment rolls', async () => {
    const writer = await open({ segmentBytes: 4096 });
    const reader = await open({ segmentBytes: 4096 });
    const c = reader.subscribe('t', 'g', { partitions: [0] });
    const recs = records(120, 0);
    const got: LogRecord[] = [];
    for (let i = 0; i < recs.length; i += 7) {
      await writer.append('t', recs.slice(i, i + 7));
      while (got.length < Math.min(i + 7, recs.length)) got.push(...(await c.poll(100, 2000)).records);
    }
    expect(listSegments(dir(0)).length).toBeGreaterThan(4);
    expect(got.map((r) => [r.offset, r.value])).toEqual(recs.map((r, i) => [i, r.value]));
  });

  it('never shows uncommitted transactional output to a reader in another instance', async () => {
    const p = 1;
    const a = await open();
    const reader = await open();
    await a.append('in', records(4, p, 'in'));
    const tx = a.transactional('in', 'job', { partitions: [0, 1] });
    await tx.restore();
    const b = await tx.poll(100, 1000);
    await tx.commit({ offsets: b.nextOffsets, outputs: [{ topic: 'out', records: records(2, p, 'ok') }], state: new Map() });
    const c = reader.subscribe('out', 'g', { partitions: [p] });
    expect((await c.poll(100, 1000)).records.map((r) => r.value.split(':')[0])).toEqual(['ok', 'ok']);

    const orphan = records(3, p, 'orphan');
    await a.writer('out', p).append(recordSource(orphan), null, 0, orphan.length, 'job');
    expect((await c.poll(100, 100)).records).toEqual([]);
    expect(await reader.endOffsets('out')).toEqual([0, 2]);
    await tx.close();
    await a.close();

    const a2 = await open();
    const tx2 = a2.transactional('in', 'job', { partitions: [0, 1] });
    await tx2.restore();
    expect(await a2.endOffsets('out')).toEqual([0, 2]);
    await tx2.commit({ offsets: new Map(), outputs: [{ topic: 'out', records: records(1, p, 'next') }], state: new Map() });
    expect((await c.poll(100, 2000)).records.map((r) => [r.offset, r.value.split(':')[0]])).toEqual([[2, 'next']]);
    expect(existsSync(`${dir(p, 'out')}/txn.json`)).toBe(true);
    const plain = await a2.append('out', records(1, p, 'plain')).catch((e: unknown) => e);
    expect((plain as Error).message).toMatch(/output of transactional producer 'job'/);
  });
});
