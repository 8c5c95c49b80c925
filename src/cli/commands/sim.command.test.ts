import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Click, Impression, loadConfig, TOPICS } from '../../core/index.ts';
import { createEventLog, type EventLog } from '../../events/index.ts';
import { tempDir } from '../../../test/helpers/services.ts';
import { registerSimCommand } from './sim.command.ts';

describe('pctr sim', () => {
  let tmp: ReturnType<typeof tempDir>;
  let env: NodeJS.ProcessEnv;

  beforeEach(() => {
    tmp = tempDir('sim-cli');
    env = { PCTR_EVENTS: `file:${join(tmp.dir, 'events')}`, PCTR_EVENT_PARTITIONS: '4', PCTR_ATTRIBUTION_WINDOW: '10m', PCTR_LOG_LEVEL: 'warn' };
  });
  afterEach(() => tmp.remove());

  function program(out: { text: string }): Command {
    const p = new Command('pctr').exitOverride().option('-c, --config <file>');
    p.configureOutput({ writeOut: (s) => (out.text += s), writeErr: (s) => (out.text += s) });
    registerSimCommand(p, { env, out: { write: (s: string) => (out.text += s) } });
    return p;
  }

  async function run(...args: string[]): Promise<string> {
    const out = { text: '' };
    await program(out).parseAsync(['node', 'pctr', 'sim', ...args]);
    return out.text;
  }

  async function readTopic(log: EventLog, topic: string): Promise<string[]> {
    const consumer = log.subscribe(topic, 'sim-test');
    const values: string[] = [];
    try {
      for (;;) {
        const batch = await consumer.poll(10_000, 50);
        if (batch.records.length === 0) return values;
        for (const r of batch.records) values.push(r.value);
      }
    } finally {
      await consumer.close();
    }
  }

  it('explains every option with its default, and gives examples', async () => {
    const out = { text: '' };
    await expect(program(out).parseAsync(['node', 'pctr', 'sim', '--help'])).rejects.toThrow();
    for (const option of ['--seed', '--base-ctr', '--export', '--rows', '--out', '--oracle-out', '--impressions', '--rate', '--speed', '--realtime', '--start', '--window', '--no-drift', '--shift', '--duplicate-rate', '--unknown-click-rate']) {
      expect(out.text).toContain(option);
    }
    expect(out.text).toContain('(default: 1000000)');
    expect(out.text).toContain('(default: device@12h)');
    expect(out.text).toMatch(/Examples:\n(\s+\$ pctr sim .+\n)+/);
    expect(out.text).toContain('$ pctr sim --export criteo --rows 1000000 --out');
  });

  it('appends impressions and clicks to the configured event log, valid, with the configured window', async () => {
    const summary = await run('--impressions', '20000', '--speed', 'max', '--start', '2024-03-01T00:00:00Z', '--seed', '5');
    expect(summary).toMatch(/^sim: 20000 impressions in \d+ requests, \d+ clicks \(\d+ late, \d+ duplicate, \d+ unknown\), mean true CTR [\d.]+ %, event time 2024-03-01T00:00:00.000Z/);
    const log = await createEventLog(loadConfig({ env }).events);
    try {
      const impressions = (await readTopic(log, TOPICS.impressions)).map((v) => Impression.parse(JSON.parse(v)));
      const clicks = (await readTopic(log, TOPICS.clicks)).map((v) => Click.parse(JSON.parse(v)));
      expect(impressions).toHaveLength(20_000);
      expect(clicks.length).toBe(Number(/(\d+) clicks/.exec(summary)?.[1]));
      expect(impressions.every((i) => i.impressionId.startsWith('s5t'))).toBe(true);
      expect(impressions.every((i) => i.ts >= Date.parse('2024-03-01T00:00:00Z'))).toBe(true);
      // The window given to the join (10m) is the one late clicks are late for.
      const shownAt = new Map(impressions.map((i) => [i.impressionId, i.ts]));
      const late = clicks.filter((c) => (shownAt.get(c.impressionId) ?? Infinity) + 600_000 < c.ts).length;
      expect(late).toBeGreaterThan(0);
      expect(late / clicks.length).toBeLessThan(0.05);
    } finally {
      await log.close();
    }
  });

  it('exports a data set with its oracle and prints a summary line', async () => {
    const out = join(tmp.dir, 'avazu.csv');
    const oracle = join(tmp.dir, 'avazu.oracle.gz');
    const summary = await run('--export', 'avazu', '--rows', '5000', '--out', out, '--oracle-out', oracle, '--base-ctr', '0.2');
    expect(summary).toMatch(/^avazu: 5000 rows, \d+ positives \([\d.]+ %\), mean true CTR 2\d\.\d\d %, [\d.]+ s \(\S+ rows\/s\) → .*avazu\.csv \(oracle → .*avazu\.oracle\.gz\)\n$/);
    expect(readFileSync(out, 'utf8').split('\n')).toHaveLength(5002);
  });

  it('rejects missing and malformed arguments by name', async () => {
    await expect(run('--export', 'criteo')).rejects.toThrow(/--out/);
    await expect(run('--export', 'libsvm', '--out', 'x')).rejects.toThrow(/libsvm/);
    await expect(run('--rows', '-3')).rejects.toThrow(/--rows/);
    await expect(run('--speed', 'fast')).rejects.toThrow(/--speed/);
    await expect(run('--shift', 'browser@1h')).rejects.toThrow(/--shift/);
    await expect(run('--impressions', '10', '--base-ctr', '0.2')).rejects.toThrow(/baseCtr/);
  });
});
