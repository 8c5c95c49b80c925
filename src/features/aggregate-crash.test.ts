/**
 * Crash test of `pctr aggregate`: the process is killed with SIGKILL at random moments and
 * restarted; in the end the online store (real Redis) must hold exactly the windowed counts of the
 * stream, and the offline store every labeled example exactly once.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { appendStream, expectStoreMatches, makeStream } from '../../test/helpers/aggregate-stream.ts';
import { dropRedisPrefix, redisUrl, tempDir, uniqueName } from '../../test/helpers/services.ts';
import { pctrCommand } from '../core/index.ts';
import { createEventLog } from '../events/index.ts';
import { createOnlineStore } from './online-store/index.ts';
import { ParquetOfflineStore } from './offline-store/parquet.ts';

const IMPRESSIONS = 60_000;
const KILLS = 4;

describe('pctr aggregate under kill -9', () => {
  const tmp = tempDir('agg-crash');
  const prefix = uniqueName('aggcrash');
  afterAll(async () => {
    tmp.remove();
    await dropRedisPrefix(prefix);
  });

  const env = {
    ...process.env,
    PCTR_DATA_DIR: tmp.dir,
    PCTR_EVENTS: `file:${join(tmp.dir, 'events')}`,
    PCTR_EVENT_PARTITIONS: '4',
    PCTR_ONLINE_STORE: `${redisUrl()}?prefix=${prefix}`,
    PCTR_OFFLINE_STORE: `file:${join(tmp.dir, 'offline')}`,
    PCTR_LOG_LEVEL: 'error',
  };
  const args = ['aggregate', '--until-idle', '--flush-interval', '50ms', '--flush-events', '1500', '--checkpoint-interval', '150ms', '--sink-rows', '1500', '--sink-interval', '100ms'];

  /**
   * Run the command; kill it `killAfterMs` after its progress first shows records read (if it is
   * still running then). Resolves with whether it finished by itself.
   */
  function run(killAfterMs: number | null): Promise<boolean> {
    const { command, args: argv } = pctrCommand([...args, '--progress', '50ms', '--json']);
    const child = spawn(command, argv, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (killAfterMs === null || timer !== undefined || !/"records":[1-9]/.test(stderr)) return;
      timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    });
    return new Promise((resolve, reject) => {
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        if (signal === 'SIGKILL') resolve(false);
        else if (code === 0) resolve(true);
        else reject(new Error(`pctr aggregate exited with ${code}: ${stderr}`));
      });
    });
  }

  it('keeps exact window counts online and each example once offline', { timeout: 120_000 }, async () => {
    const log = await createEventLog({ url: env.PCTR_EVENTS, partitions: 4, fsync: 'never', fsyncIntervalMs: 200, segmentBytes: 1 << 26, retentionBytes: 0, retentionMs: 0 });
    const events = makeStream(IMPRESSIONS, 11);
    await appendStream(log, events);
    await log.close();
    // A full run takes a few seconds here; kills land anywhere from its first records to well into it.
    let kills = 0;
    for (let i = 0; i < KILLS; i++) if (!(await run(50 + Math.floor(Math.random() * 750)))) kills++;
    expect(await run(null)).toBe(true);
    expect(kills).toBeGreaterThan(0);

    const store = createOnlineStore(`${env.PCTR_ONLINE_STORE}&timeout=5s`);
    try {
      await expectStoreMatches(store, events);
    } finally {
      await store.close();
    }
    const offline = new ParquetOfflineStore({ type: 'file', dir: join(tmp.dir, 'offline'), threads: 1 });
    try {
      const ts: number[] = [];
      for await (const b of offline.read({ from: 0, to: 8e15 }, { fields: [] })) ts.push(...b.ts!);
      expect(ts).toEqual(events.map((e) => e.ts));
    } finally {
      await offline.close();
    }
  });
});
