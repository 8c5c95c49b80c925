/**
 * The Registry contract, run against every backend (sqlite, postgres) on real storage: each test
 * gets a fresh store from the backend's fixture and removes it afterwards.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isPctrError, type ErrorCode } from '../../src/core/index.ts';
import { sha256Hex, type AliasEvent, type ModelVersion, type Registry, type RegistryConfig, type VersionMeta } from '../../src/registry/index.ts';
import { RacePool } from './registry-race.ts';

export interface RegistryFixture {
  readonly url: string;
  readonly artifacts: string;
  /** A new instance on the same store, as another process would open it. */
  open(extra?: Partial<RegistryConfig>): Promise<Registry>;
  cleanup(): Promise<void>;
}

const bytes = (s: string) => new TextEncoder().encode(s);
const meta = (over: Partial<VersionMeta> = {}): VersionMeta => ({ kind: 'ftrl', params: { alpha: 0.05, bits: 20 }, metrics: { auc: 0.75, logloss: 0.45 }, ...over });

async function rejection(p: Promise<unknown> | (() => unknown), code: ErrorCode): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    if (!isPctrError(e)) throw e;
    expect(e.code, e.message).toBe(code);
    return e.message;
  }
  throw new Error(`expected ${code}, but it succeeded`);
}

/** Resolves when `cond` holds, polling every 10 ms; fails after `ms`. */
async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function registryContract(backend: string, makeFixture: () => Promise<RegistryFixture>): void {
  describe(`Registry contract: ${backend}`, () => {
    singleClient(makeFixture);
    concurrentClients(makeFixture);
  });
}

function singleClient(makeFixture: () => Promise<RegistryFixture>): void {
  describe('one client at a time', () => {
    let fx: RegistryFixture;
    let reg: Registry;
    const opened: Registry[] = [];
    const open = async (extra?: Partial<RegistryConfig>) => {
      const r = await fx.open(extra);
      opened.push(r);
      return r;
    };

    beforeEach(async () => {
      fx = await makeFixture();
      reg = await open();
    });
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((r) => r.close()));
      await fx.cleanup();
    });

    it('registers versions numbered from 1 per model and reads them back', async () => {
      const v1 = await reg.register('ctr', bytes('weights-1'), meta({ dataRange: { from: 1_700_000_000_000, to: 1_700_003_600_000, rows: 123_456 }, runId: 'run-1', codeVersion: 'abc123' }));
      const v2 = await reg.register('ctr', bytes('weights-2'), meta({ parentVersion: 1, description: 'retrained' }));
      const o1 = await reg.register('other', bytes('weights-1'), meta({ kind: 'fm' }));
      expect([v1.version, v2.version, o1.version]).toEqual([1, 2, 1]);
      expect(v1).toMatchObject({ name: 'ctr', kind: 'ftrl', params: { alpha: 0.05, bits: 20 }, metrics: { auc: 0.75, logloss: 0.45 }, aliases: [] });
      expect(v1.dataRange).toEqual({ from: 1_700_000_000_000, to: 1_700_003_600_000, rows: 123_456 });
      expect(v1.digest).toBe(sha256Hex(bytes('weights-1')));
      expect(v1.sizeBytes).toBe(9);
      expect(Number.isNaN(Date.parse(v1.createdAt))).toBe(false);
      expect('parentVersion' in v1).toBe(false);
      expect(await reg.get('ctr', 1)).toEqual(v1);
      expect(await reg.get('ctr', 2)).toEqual(v2);
      expect(await reg.get('ctr', '@latest')).toEqual(v2);
      expect(await reg.list('ctr')).toEqual([v1, v2]);
      expect(await reg.models()).toEqual(['ctr', 'other']);
      expect(Buffer.from(await reg.loadArtifact(v2)).toString()).toBe('weights-2');
      expect(Buffer.from(await reg.loadArtifact(o1)).toString()).toBe('weights-1');
    });

    it('validates input before touching storage', async () => {
      const bad: [string, () => Promise<unknown>, RegExp][] = [
        ['name', () => reg.register('bad name!', bytes('x'), meta()), /model name/],
        ['metrics', () => reg.register('ctr', bytes('x'), meta({ metrics: { auc: Number.NaN } })), /metrics\.auc/],
        ['unknown key', () => reg.register('ctr', bytes('x'), { ...meta(), stage: 'prod' } as VersionMeta), /stage/],
        ['data range', () => reg.register('ctr', bytes('x'), meta({ dataRange: { from: 5, to: 1, rows: 1 } })), /dataRange\.from/],
        ['empty artifact', () => reg.register('ctr', new Uint8Array(0), meta()), /artifact is empty/],
        ['alias', () => reg.setAlias('ctr', 'Champion!', 1), /alias/],
        ['reserved alias', () => reg.setAlias('ctr', 'latest', 1), /reserved/],
        ['ref', () => reg.get('ctr', 'champion' as `@${string}`), /version reference/],
      ];
      for (const [what, call, message] of bad) expect(await rejection(call, 'PCTR_VALIDATION'), what).toMatch(message);
      expect(await reg.models()).toEqual([]);
      await reg.register('ctr', bytes('x'), meta());
      expect(await rejection(reg.register('ctr', bytes('y'), meta({ parentVersion: 7 })), 'PCTR_VALIDATION')).toMatch(/parentVersion 7 .* does not exist \(latest is 1\)/);
      expect((await reg.list('ctr')).length).toBe(1);
    });

    it('names the unknown model, version or alias', async () => {
      expect(await rejection(reg.get('ctr', 1), 'PCTR_UNKNOWN_MODEL')).toMatch(/no registered model "ctr" \(none registered yet\)/);
      await reg.register('ctr', bytes('a'), meta());
      await reg.register('ctr', bytes('b'), meta());
      await reg.setAlias('ctr', 'challenger', 2);
      expect(await rejection(reg.get('ctx', 1), 'PCTR_UNKNOWN_MODEL')).toMatch(/no registered model "ctx" \(registered: ctr\)/);
      expect(await rejection(reg.list('ctx'), 'PCTR_UNKNOWN_MODEL')).toMatch(/"ctx"/);
      expect(await rejection(reg.aliasHistory('ctx'), 'PCTR_UNKNOWN_MODEL')).toMatch(/"ctx"/);
      expect(await rejection(reg.get('ctr', 9), 'PCTR_UNKNOWN_MODEL')).toMatch(/model "ctr" has no version 9 \(versions 1-2\)/);
      expect(await rejection(reg.setAlias('ctr', 'champion', 3), 'PCTR_UNKNOWN_MODEL')).toMatch(/no version 3/);
      expect(await rejection(reg.get('ctr', '@champion'), 'PCTR_UNKNOWN_ALIAS')).toMatch(/model "ctr" has no alias @champion \(aliases: @challenger\)/);
      expect(await rejection(reg.rollback('ctr', 'champion'), 'PCTR_UNKNOWN_ALIAS')).toMatch(/@champion/);
      expect(await rejection(reg.deleteAlias('ctr', 'champion'), 'PCTR_UNKNOWN_ALIAS')).toMatch(/@champion/);
    });

    it('returns the first version for a repeated idempotency key', async () => {
      const first = await reg.register('ctr', bytes('a'), meta({ idempotencyKey: 'run-7/register' }));
      const again = await reg.register('ctr', bytes('a, retried'), meta({ idempotencyKey: 'run-7/register' }));
      const other = await reg.register('ctr', bytes('b'), meta({ idempotencyKey: 'run-8/register' }));
      expect(again).toEqual(first);
      expect(other.version).toBe(2);
      expect((await reg.list('ctr')).map((v) => v.version)).toEqual([1, 2]);
    });

    it('moves aliases and records each move in the history', async () => {
      for (const s of ['a', 'b', 'c']) await reg.register('ctr', bytes(s), meta());
      const e1 = await reg.setAlias('ctr', 'champion', 1, { reason: 'first' });
      await reg.setAlias('ctr', 'champion', 2, { reason: 'better auc' });
      await reg.setAlias('ctr', 'challenger', 3);
      const same = await reg.setAlias('ctr', 'champion', 2, { reason: 'no-op' });
      expect(e1).toMatchObject({ name: 'ctr', alias: 'champion', action: 'set', fromVersion: null, toVersion: 1, reason: 'first' });
      expect(same).toMatchObject({ fromVersion: 2, toVersion: 2 });
      const champion = await reg.get('ctr', '@champion');
      expect(champion.version).toBe(2);
      expect(champion.aliases).toEqual(['champion']);
      expect((await reg.list('ctr')).map((v) => v.aliases)).toEqual([[], ['champion'], ['challenger']]);
      await reg.deleteAlias('ctr', 'challenger', 'experiment over');
      expect((await reg.get('ctr', 3)).aliases).toEqual([]);
      const history = await reg.aliasHistory('ctr');
      expect(history.map((h) => [h.alias, h.action, h.fromVersion, h.toVersion, h.reason])).toEqual([
        ['champion', 'set', null, 1, 'first'],
        ['champion', 'set', 1, 2, 'better auc'],
        ['challenger', 'set', null, 3, ''],
        ['challenger', 'delete', 3, null, 'experiment over'],
      ]);
      expect((await reg.aliasHistory('ctr', 'champion')).length).toBe(2);
    });

    it('compare-and-set refuses a stale expected version and changes nothing', async () => {
      for (const s of ['a', 'b', 'c']) await reg.register('ctr', bytes(s), meta());
      await reg.setAlias('ctr', 'champion', 1, { expectedVersion: null });
      await reg.setAlias('ctr', 'champion', 2, { expectedVersion: 1 });
      expect(await rejection(reg.setAlias('ctr', 'champion', 3, { expectedVersion: 1 }), 'PCTR_CONFLICT')).toMatch(/@champion of model "ctr" points to version 2, expected version 1/);
      expect(await rejection(reg.setAlias('ctr', 'champion', 3, { expectedVersion: null }), 'PCTR_CONFLICT')).toMatch(/expected to be unset/);
      expect((await reg.get('ctr', '@champion')).version).toBe(2);
      expect((await reg.aliasHistory('ctr')).length).toBe(2);
    });

    it('rolls an alias back along its history and refuses when there is nothing before', async () => {
      for (const s of ['a', 'b', 'c']) await reg.register('ctr', bytes(s), meta());
      for (const v of [1, 2, 3]) await reg.setAlias('ctr', 'champion', v);
      expect(await reg.rollback('ctr', 'champion', { reason: 'auc dropped' })).toMatchObject({ action: 'rollback', fromVersion: 3, toVersion: 2, reason: 'auc dropped' });
      expect((await reg.rollback('ctr', 'champion')).toVersion).toBe(1);
      expect(await rejection(reg.rollback('ctr', 'champion'), 'PCTR_CONFLICT')).toMatch(/cannot roll back alias @champion of model "ctr": no earlier version .*points to version 1/);
      expect((await reg.get('ctr', '@champion')).version).toBe(1);
    });

    it('calls the alias-change hook once per committed move, and a failing hook does not undo it', async () => {
      const seen: AliasEvent[] = [];
      const hooked = await open({ onAliasChange: (e) => void seen.push(e) });
      const failing = await open({ onAliasChange: () => Promise.reject(new Error('webhook down')) });
      for (const s of ['a', 'b']) await hooked.register('ctr', bytes(s), meta());
      await hooked.setAlias('ctr', 'champion', 1);
      await hooked.setAlias('ctr', 'champion', 1);
      await rejection(hooked.setAlias('ctr', 'champion', 2, { expectedVersion: 2 }), 'PCTR_CONFLICT');
      await hooked.setAlias('ctr', 'champion', 2);
      await hooked.rollback('ctr', 'champion');
      expect(seen.map((e) => [e.action, e.fromVersion, e.toVersion])).toEqual([
        ['set', null, 1],
        ['set', 1, 2],
        ['rollback', 2, 1],
      ]);
      await failing.setAlias('ctr', 'champion', 2);
      expect((await reg.get('ctr', '@champion')).version).toBe(2);
    });

    it('refuses a corrupted, truncated or missing artifact and a checksum mismatch at registration', async () => {
      const v = await reg.register('ctr', bytes('the real weights'), meta());
      const path = join(fx.artifacts, 'sha256', v.digest.slice(0, 2), v.digest);
      const good = readFileSync(path);
      writeFileSync(path, Buffer.concat([good.subarray(0, 3), Buffer.from('X'), good.subarray(4)]));
      const corrupt = await rejection(reg.loadArtifact(v), 'PCTR_ARTIFACT_CORRUPT');
      expect(corrupt).toContain(`model ctr version 1 is corrupt: expected sha256 ${v.digest}, found ${sha256Hex(readFileSync(path))}`);
      writeFileSync(path, good.subarray(0, 5));
      expect(await rejection(reg.loadArtifact(v), 'PCTR_ARTIFACT_CORRUPT')).toMatch(/is corrupt/);
      rmSync(path);
      expect(await rejection(reg.loadArtifact(v), 'PCTR_ARTIFACT_CORRUPT')).toMatch(/model ctr version 1 is missing/);
      const wrong = sha256Hex(bytes('something else'));
      expect(await rejection(reg.register('ctr', bytes('weights v2'), meta(), { expectedDigest: wrong }), 'PCTR_ARTIFACT_CORRUPT')).toMatch(/checksum mismatch/);
      expect((await reg.list('ctr')).length).toBe(1);
      const ok = await reg.register('ctr', bytes('weights v2'), meta(), { expectedDigest: sha256Hex(bytes('weights v2')) });
      expect(ok.version).toBe(2);
    });

    it('watch reports a move by another instance within 1 s, once per change', async () => {
      const mover = await open();
      for (const s of ['a', 'b', 'c']) await mover.register('ctr', bytes(s), meta());
      await mover.setAlias('ctr', 'champion', 1);
      const got: ModelVersion[] = [];
      const stop = reg.watch('ctr', 'champion', (v) => void got.push(v));
      await until(() => got.length === 1, 1_000, 'the current version first');
      expect(got[0].version).toBe(1);
      const latencies: number[] = [];
      for (const v of [2, 3, 1]) {
        const t0 = Date.now();
        await mover.setAlias('ctr', 'champion', v);
        await until(() => got.length === latencies.length + 2, 1_000, `delivery of version ${v}`);
        latencies.push(Date.now() - t0);
      }
      await mover.setAlias('ctr', 'champion', 2);
      await until(() => got.length === 5, 1_000, 'delivery of version 2');
      expect(got.map((v) => v.version)).toEqual([1, 2, 3, 1, 2]);
      expect(got[4].aliases).toEqual(['champion']);
      expect(Math.max(...latencies)).toBeLessThan(1_000);
      stop();
      const known: number[] = [];
      const stopKnown = reg.watch('ctr', 'champion', (v) => void known.push(v.version), { known: 2 });
      await mover.setAlias('ctr', 'challenger', 3);
      await mover.setAlias('ctr', 'champion', 3);
      await until(() => known.length === 1, 1_000, 'delivery to a watcher that knew version 2');
      expect(known).toEqual([3]);
      expect(got.length).toBe(5);
      stopKnown();
    });

    it('close() ends watches and refuses further calls clearly', async () => {
      await reg.register('ctr', bytes('a'), meta());
      const got: number[] = [];
      reg.watch('ctr', 'champion', (v) => void got.push(v.version));
      await reg.close();
      await reg.close();
      const other = await open();
      await other.setAlias('ctr', 'champion', 1);
      expect(await rejection(reg.get('ctr', 1), 'PCTR_BACKEND_UNAVAILABLE')).toMatch(/is closed/);
      expect(await rejection(() => reg.watch('ctr', 'champion', () => undefined), 'PCTR_BACKEND_UNAVAILABLE')).toMatch(/is closed/);
      const seen: number[] = [];
      other.watch('ctr', 'champion', (v) => void seen.push(v.version));
      await until(() => seen.length === 1, 1_000, 'a live watcher to see the move');
      expect(got).toEqual([]);
    });

  });
}

function concurrentClients(makeFixture: () => Promise<RegistryFixture>): void {
  describe('under concurrency (10 connections in worker threads)', () => {
    let fx: RegistryFixture;
    let pool: RacePool;
    let viewer: Registry;
    beforeAll(async () => {
      fx = await makeFixture();
      viewer = await fx.open();
      pool = await RacePool.start(10, { url: fx.url, artifacts: fx.artifacts });
    });
    afterAll(async () => {
      await pool?.close();
      await viewer?.close();
      await fx?.cleanup();
    });

    it('allocates versions without gaps under 20 concurrent registrations', async () => {
      const replies = await pool.all(() => ({ op: 'register', name: 'gapless', count: 2 }));
      const versions = replies.flatMap((r) => (r.ok ? (r.result as number[]) : [Number.NaN]));
      expect(versions.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    });

    it('registers once for one idempotency key sent by 10 racing clients', async () => {
      // The model exists already, so the racers do not queue behind the first insert of its row.
      await viewer.register('once', new TextEncoder().encode('v1'), meta());
      const replies = await pool.all(() => ({ op: 'register', name: 'once', count: 1, idempotencyKey: 'run-1/register' }));
      expect(replies.map((r) => (r.ok ? r.result : r.message))).toEqual(Array.from({ length: 10 }, () => [2]));
      expect((await viewer.list('once')).length).toBe(2);
    });

    it('lets exactly one of 10 racing promoters win each round, with a consistent history', async () => {
      const seed = await pool.all(() => ({ op: 'register', name: 'race', count: 2 }));
      expect(seed.every((r) => r.ok)).toBe(true);
      await viewer.setAlias('race', 'champion', 1);
      let current = 1;
      for (let round = 0; round < 5; round++) {
        const replies = await pool.all((w) => ({ op: 'setAlias', name: 'race', alias: 'champion', version: ((current + w) % 20) + 1, expectedVersion: current }));
        const winners = replies.flatMap((r, w) => (r.ok ? [w] : []));
        expect(winners.length, JSON.stringify(replies)).toBe(1);
        expect(replies.every((r) => r.ok || r.code === 'PCTR_CONFLICT')).toBe(true);
        current = ((current + winners[0]) % 20) + 1;
        expect((await viewer.get('race', '@champion')).version).toBe(current);
      }
      const history = await viewer.aliasHistory('race', 'champion');
      expect(history.length).toBe(6);
      for (let i = 1; i < history.length; i++) expect(history[i].fromVersion).toBe(history[i - 1].toVersion);
      expect(history[history.length - 1].toVersion).toBe(current);
    });
  });
}
