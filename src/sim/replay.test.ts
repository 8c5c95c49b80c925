import { writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { tempDir } from '../../test/helpers/services.ts';
import { registerReplayCommand } from '../cli/commands/replay.command.ts';
import { isPctrError, TOPICS } from '../core/index.ts';
import { createEventLog, type AppendRecord } from '../events/index.ts';
import { checkReplayRecord, replayEvents, type ReplayOptions, type ReplayStats } from './replay.ts';

const criteoRow = (label: number, i: number) =>
  [label, ...Array.from({ length: 13 }, (_, k) => (k === 2 ? '' : String(i + k))), ...Array.from({ length: 26 }, (_, k) => (k === 5 ? '' : (0x68fd1e00 + i * 26 + k).toString(16)))].join('\t');

const AVAZU_HEADER = 'id,click,hour,C1,banner_pos,site_id,site_domain,site_category,app_id,app_domain,app_category,device_id,device_ip,device_model,device_type,device_conn_type,C14,C15,C16,C17,C18,C19,C20,C21';
const avazuRow = (id: string, click: number, hour: string, device: string) =>
  `${id},${click},${hour},1005,1,1fbe01fe,f3845767,28905ebd,ecad2386,7801e8d9,07d7df22,${device},ddd2926e,44956a24,1,2,15706,320,50,1722,0,35,-1,79`;

async function collect(opts: ReplayOptions): Promise<{ impressions: AppendRecord[]; clicks: AppendRecord[]; order: AppendRecord[]; stats: ReplayStats }> {
  const impressions: AppendRecord[] = [];
  const clicks: AppendRecord[] = [];
  const order: AppendRecord[] = [];
  const gen = replayEvents(opts);
  for (;;) {
    const next = await gen.next();
    if (next.done) return { impressions, clicks, order, stats: next.value };
    impressions.push(...next.value.impressions);
    clicks.push(...next.value.clicks);
    order.push(...next.value.impressions, ...next.value.clicks);
  }
}

const tsOf = (r: AppendRecord) => (JSON.parse(r.value) as { ts: number }).ts;

describe('replay', () => {
  it('turns Criteo rows into valid impressions and clicks in event-time order, skipping malformed rows', async () => {
    const t = tempDir('replay');
    try {
      const rows = Array.from({ length: 300 }, (_, i) => criteoRow(i % 4 === 0 ? 1 : 0, i));
      rows.splice(10, 0, 'garbage line', `2\t${criteoRow(0, 1).slice(2)}`);
      const path = `${t.dir}/c.tsv.gz`;
      writeFileSync(path, gzipSync(`${rows.join('\n')}\n`));
      const r = await collect({ kind: 'criteo', path, ratePerSec: 10, startTs: 1_000_000, batchSize: 64 });
      expect(r.stats).toMatchObject({ rows: 300, malformed: 2, impressions: 300, clicks: 75, firstTs: 1_000_000 });
      expect(r.stats.firstErrors[0]).toMatchObject({ line: 11 });
      for (const rec of [...r.impressions, ...r.clicks]) checkReplayRecord(rec);
      const first = JSON.parse(r.impressions[0].value);
      expect(first).toMatchObject({ impressionId: 'criteo-0', ts: 1_000_000, features: { I1: 0, I2: 1, C1: (0x68fd1e00).toString(16) } });
      expect(first.features).not.toHaveProperty('I3');
      expect(first.features).not.toHaveProperty('C6');
      expect(tsOf(r.impressions[1]) - tsOf(r.impressions[0])).toBe(100);
      // Every click follows its impression, and the whole stream is in event-time order batch by batch.
      const impTs = new Map(r.impressions.map((i) => [i.key, tsOf(i)]));
      for (const c of r.clicks) expect(tsOf(c)).toBeGreaterThan(impTs.get(c.key)!);
      expect(new Set(r.clicks.map((c) => c.key)).size).toBe(75);
    } finally {
      t.remove();
    }
  });

  it('keeps Avazu ids and hours and maps device, creative and ad group to user, ad and campaign', async () => {
    const t = tempDir('replay');
    try {
      const path = `${t.dir}/a.csv`;
      writeFileSync(path, [AVAZU_HEADER, avazuRow('1000009418151094273', 0, '14102100', 'a99f214a'), avazuRow('10000169349117863715', 1, '14102100', 'dev1'), avazuRow('3', 0, '14102101', 'dev2'), ''].join('\n'));
      const r = await collect({ kind: 'avazu', path, ratePerSec: 1 });
      const imps = r.impressions.map((i) => JSON.parse(i.value));
      expect(imps.map((i) => i.impressionId)).toEqual(['avazu-1000009418151094273', 'avazu-10000169349117863715', 'avazu-3']);
      expect(imps[0]).toMatchObject({ userId: 'ip-ddd2926e', adId: 'c14-15706', campaignId: 'c17-1722', position: 1, ts: Date.UTC(2014, 9, 21, 0) });
      expect(imps[1]).toMatchObject({ userId: 'dev-dev1', ts: Date.UTC(2014, 9, 21, 0) + 1000 });
      expect(imps[2].ts).toBe(Date.UTC(2014, 9, 21, 1));
      expect(r.clicks.map((c) => c.key)).toEqual(['avazu-10000169349117863715']);
    } finally {
      t.remove();
    }
  });

  it('stops with PCTR_FILE_TRUNCATED after the good rows of a truncated gzip file', async () => {
    const t = tempDir('replay');
    try {
      const gz = gzipSync(`${Array.from({ length: 5000 }, (_, i) => criteoRow(i % 2, i)).join('\n')}\n`);
      const path = `${t.dir}/cut.tsv.gz`;
      writeFileSync(path, gz.subarray(0, Math.floor(gz.length * 0.6)));
      const seen: AppendRecord[] = [];
      const gen = replayEvents({ kind: 'criteo', path, batchSize: 100 });
      const err = await (async () => {
        try {
          for (;;) {
            const n = await gen.next();
            if (n.done) return null;
            seen.push(...n.value.impressions);
          }
        } catch (e) {
          return e;
        }
      })();
      expect(isPctrError(err, 'PCTR_FILE_TRUNCATED')).toBe(true);
      expect(seen.length).toBeGreaterThan(1000);
      expect((err as Error).message).toContain(`ends after`);
    } finally {
      t.remove();
    }
  });

  it('pctr replay appends the stream to the configured event log and reports counts', async () => {
    const t = tempDir('replay');
    try {
      const path = `${t.dir}/c.tsv`;
      writeFileSync(path, `${Array.from({ length: 200 }, (_, i) => criteoRow(i % 5 === 0 ? 1 : 0, i)).join('\n')}\n`);
      const out: string[] = [];
      const program = new Command().exitOverride();
      const env = { PCTR_DATA_DIR: t.dir, PCTR_EVENTS: `file:${t.dir}/events`, PCTR_EVENT_PARTITIONS: '4' };
      registerReplayCommand(program, { out: { write: (s: string) => out.push(s) } as unknown as NodeJS.WritableStream, env });
      await program.parseAsync(['node', 'pctr', 'replay', 'criteo', path]);
      expect(out.join('')).toMatch(/criteo: 200 impressions and 40 clicks/);
      const log = await createEventLog({ url: `file:${t.dir}/events`, partitions: 4, fsync: 'never', fsyncIntervalMs: 200, segmentBytes: 1 << 20, retentionBytes: 0, retentionMs: 0 });
      try {
        const sum = async (topic: string) => (await log.endOffsets(topic)).reduce((a, b) => a + b, 0);
        expect(await sum(TOPICS.impressions)).toBe(200);
        expect(await sum(TOPICS.clicks)).toBe(40);
      } finally {
        await log.close();
      }
    } finally {
      t.remove();
    }
  });
});
