/**
 * The join crash test, for any event log backend: simulated traffic goes into two identical logs;
 * one is joined by an uninterrupted `pctr join`, the other by a `pctr join` killed with SIGKILL at
 * several points and restarted each time. Both must emit the same labels, each impression exactly
 * once, and those labels must be the ones the generated events imply.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { expect } from 'vitest';
import { fileURLToPath } from 'node:url';
import type { Config } from '../../src/core/index.ts';
import { createEventLog, type EventLog } from '../../src/events/index.ts';
import { generateEventRecords } from '../../src/sim/index.ts';

const JOIN_CLI = fileURLToPath(new URL('./join-cli.ts', import.meta.url));

export interface CrashScenario {
  /** Event settings of the two logs (same partitions, different url). */
  readonly reference: Config['events'];
  readonly crashed: Config['events'];
  readonly impressions: number;
  readonly windowMs: number;
  readonly kills: number;
  readonly seed: number;
}

export interface Expected {
  /** impressionId → label implied by the generated events. */
  readonly labels: Map<string, 0 | 1>;
  readonly clicks: number;
}

/** Append the simulated traffic to a log; returns the labels the events imply. */
export async function produce(settings: Config['events'], s: CrashScenario): Promise<Expected> {
  const log = await createEventLog(settings);
  const labels = new Map<string, 0 | 1>();
  const impTs = new Map<string, number>();
  let clicks = 0;
  try {
    const gen = generateEventRecords({ seed: s.seed, impressions: s.impressions, ratePerSec: 50, windowMs: s.windowMs, batchSize: 8192 });
    for (let it = gen.next(); !it.done; it = gen.next()) {
      const { impressions, clicks: batchClicks } = it.value;
      for (const r of impressions) {
        const ts = (JSON.parse(r.value) as { ts: number }).ts;
        impTs.set(r.key, ts);
        labels.set(r.key, 0);
      }
      for (const r of batchClicks) {
        const ts = (JSON.parse(r.value) as { ts: number }).ts;
        const at = impTs.get(r.key);
        if (at !== undefined && ts - at <= s.windowMs) labels.set(r.key, 1);
      }
      clicks += batchClicks.length;
      await log.append('impressions', impressions);
      await log.append('clicks', batchClicks);
    }
  } finally {
    await log.close();
  }
  return { labels, clicks };
}

function joinEnv(settings: Config['events'], windowMs: number): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PCTR_EVENTS: settings.url,
    PCTR_EVENT_PARTITIONS: String(settings.partitions),
    PCTR_EVENT_FSYNC: settings.fsync,
    PCTR_ATTRIBUTION_WINDOW: String(windowMs),
    PCTR_CHECKPOINT_INTERVAL: '100ms',
    PCTR_LOG_LEVEL: 'warn',
  };
}

interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string[];
}

/**
 * One `pctr join --until-caught-up --drain`; when `killAfter` is given, it SIGKILLs itself (after a
 * random few ms) once it has processed that many more impressions than its first progress line
 * showed (join-cli.ts): 0 kills it right after restore and replay.
 */
function runJoin(env: NodeJS.ProcessEnv, killAfter: number | null): Promise<RunResult> {
  const args = ['--import', 'tsx', JOIN_CLI, 'join', '--until-caught-up', '--drain', '--json', '--progress', '25ms'];
  const childEnv = killAfter === null ? env : { ...env, PCTR_TEST_KILL_AFTER: String(killAfter) };
  const child = spawn(process.execPath, args, { env: childEnv, stdio: ['ignore', 'ignore', 'pipe'] });
  const stderr: string[] = [];
  createInterface({ input: child.stderr }).on('line', (line) => {
    if (!line.startsWith('{"progress"')) stderr.push(line);
  });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, stderr })));
}

/** Run to the end without interruption. */
export async function runUninterrupted(s: CrashScenario): Promise<void> {
  const r = await runJoin(joinEnv(s.reference, s.windowMs), null);
  if (r.code !== 0) throw new Error(`uninterrupted join failed (${r.code ?? r.signal}):\n${r.stderr.join('\n')}`);
}

/**
 * Kill `s.kills` times, each after a random 1–8% of the impressions (one right after a restart),
 * restarting each time, then let it finish. The kill points add up to well under the whole input,
 * so even a slow progress line cannot let a run finish before its kill. Returns the kills done.
 */
export async function runWithKills(s: CrashScenario): Promise<number> {
  const points = Array.from({ length: s.kills }, () => Math.floor((0.01 + Math.random() * 0.07) * s.impressions));
  points.splice(Math.floor(s.kills / 2), 0, 0);
  let kills = 0;
  for (;;) {
    const r = await runJoin(joinEnv(s.crashed, s.windowMs), kills < points.length ? points[kills] : null);
    if (r.signal === 'SIGKILL') {
      kills++;
      continue;
    }
    if (r.code !== 0) throw new Error(`join failed after ${kills} kills (${r.code ?? r.signal}):\n${r.stderr.join('\n')}`);
    return kills;
  }
}

/** Every record of a topic as read-committed JSON: count per impressionId and label/reason. */
export async function readOutputs(settings: Config['events']): Promise<{ examples: Map<string, number[]>; unattributed: string[] }> {
  const log: EventLog = await createEventLog(settings);
  try {
    const examples = new Map<string, number[]>();
    for (const r of await readTopic(log, 'examples')) {
      const e = JSON.parse(r) as { impressionId: string; label: number };
      const seen = examples.get(e.impressionId);
      if (seen) seen.push(e.label);
      else examples.set(e.impressionId, [e.label]);
    }
    const unattributed = (await readTopic(log, 'unattributed-clicks')).sort();
    return { examples, unattributed };
  } finally {
    await log.close();
  }
}

/** Every record of a topic, read committed, up to its end offsets (an empty poll alone may come early). */
async function readTopic(log: EventLog, topic: string): Promise<string[]> {
  const ends = await log.endOffsets(topic);
  const total = ends.reduce((a, b) => a + b, 0);
  const consumer = log.subscribe(topic, `verify-${process.pid}-${Date.now()}`, { from: 'earliest' });
  const out: string[] = [];
  try {
    for (let empty = 0; out.length < total && empty < 50; ) {
      const b = await consumer.poll(50_000, 200);
      empty = b.records.length === 0 ? empty + 1 : 0;
      for (const r of b.records) out.push(r.value);
    }
  } finally {
    await consumer.close();
  }
  return out;
}

/**
 * Join the reference log without interruption and the crashed log with kills, then compare: every
 * impression labeled exactly once, the same labels (and side-topic records) as the reference, and
 * the labels the generated events imply.
 */
export async function checkCrashRecovery(s: CrashScenario, expected: Expected): Promise<void> {
  await runUninterrupted(s);
  const kills = await runWithKills(s);
  expect(kills).toBeGreaterThanOrEqual(5);

  const ref = await readOutputs(s.reference);
  const got = await readOutputs(s.crashed);
  const duplicated = [...got.examples].filter(([, labels]) => labels.length > 1);
  const lost = [...expected.labels.keys()].filter((id) => !got.examples.has(id));
  expect({ duplicated: duplicated.length, lost: lost.length }).toEqual({ duplicated: 0, lost: 0 });
  expect(got.examples.size).toBe(s.impressions);
  expect(ref.examples.size).toBe(s.impressions);
  // Differences, a few at a time (a diff of 200k entries would drown the message).
  const unlike = [...ref.examples].filter(([id, labels]) => String(got.examples.get(id)) !== String(labels));
  expect({ kills, unlike: unlike.length, first: unlike.slice(0, 5) }).toEqual({ kills, unlike: 0, first: [] });
  const wrong = [...expected.labels].filter(([id, label]) => got.examples.get(id)?.[0] !== label);
  expect(wrong.slice(0, 5)).toEqual([]);
  const positives = [...expected.labels.values()].filter((l) => l === 1).length;
  expect(positives).toBeGreaterThan(s.impressions * 0.01);
  const refSide = new Set(ref.unattributed);
  const gotSide = new Set(got.unattributed);
  expect({
    lengths: [got.unattributed.length, ref.unattributed.length],
    onlyCrashed: got.unattributed.filter((r) => !refSide.has(r)).slice(0, 5),
    onlyReference: ref.unattributed.filter((r) => !gotSide.has(r)).slice(0, 5),
  }).toEqual({ lengths: [ref.unattributed.length, ref.unattributed.length], onlyCrashed: [], onlyReference: [] });
  expect(got.unattributed.length).toBeGreaterThan(0);
  process.stdout.write(
    `join crash test: ${s.impressions} impressions, ${kills} SIGKILLs, ${got.examples.size} labels (${positives} positives), ` +
      `${got.unattributed.length} unattributed clicks; lost 0, duplicated 0, differing from the uninterrupted run 0\n`,
  );
}
