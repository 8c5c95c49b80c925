import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isPctrError, pctrCommand, silentLogger } from '../../core/index.ts';
import { createRegistry } from '../../registry/index.ts';
import { tempDir } from '../../../test/helpers/services.ts';
import { registerModelsCommand } from './models.command.ts';

describe('pctr models', () => {
  let tmp: ReturnType<typeof tempDir>;
  let env: NodeJS.ProcessEnv;

  beforeEach(async () => {
    tmp = tempDir('models-cli');
    env = { PCTR_REGISTRY: `sqlite:${join(tmp.dir, 'registry.db')}`, PCTR_ARTIFACTS: join(tmp.dir, 'artifacts'), PCTR_LOG_LEVEL: 'warn' };
    const r = await createRegistry({ url: env.PCTR_REGISTRY!, artifacts: env.PCTR_ARTIFACTS!, logger: silentLogger });
    for (let i = 1; i <= 3; i++) {
      await r.register('ctr', new TextEncoder().encode(`weights ${i}`), { kind: 'ftrl', params: { alpha: i / 10, bits: 20 }, metrics: { auc: 0.7 + i / 100 }, runId: `run-${i}` });
    }
    await r.setAlias('ctr', 'champion', 1);
    await r.close();
  });
  afterEach(() => tmp.remove());

  async function run(...args: string[]): Promise<string> {
    let out = '';
    const program = new Command('pctr').exitOverride().option('-c, --config <file>');
    registerModelsCommand(program, { env, out: { write: (s: string) => (out += s) } });
    await program.parseAsync(['node', 'pctr', 'models', ...args]);
    return out;
  }
  const json = async (...args: string[]) => JSON.parse(await run(...args, '--json')) as Record<string, unknown>;

  it('lists models and versions, as tables and as JSON', async () => {
    expect(await json('ls')).toEqual([{ name: 'ctr', versions: 3, latest: 3, aliases: { champion: 1 }, latestCreatedAt: expect.any(String) }]);
    const table = (await run('ls', 'ctr')).split('\n');
    expect(table[0]).toMatch(/^VERSION\s+KIND\s+CREATED\s+ALIASES\s+AUC\s+ROWS\s+PARENT\s+RUN\s+DIGEST$/);
    expect(table[1]).toMatch(/^1\s+ftrl\s+\S+ \S+\s+champion\s+0\.71\s+run-1\s+[0-9a-f]{12}$/);
    expect(table.filter(Boolean).length).toBe(4);
  });

  it('promotes, rolls back and shows the history', async () => {
    expect(await json('promote', 'ctr', '2', '--reason', 'auc +0.01')).toMatchObject({ action: 'set', fromVersion: 1, toVersion: 2, reason: 'auc +0.01' });
    expect(await run('promote', 'ctr', '3', '--expect', '2')).toBe('ctr@champion: 2 → 3\n');
    await expect(run('promote', 'ctr', '1', '--expect', '2')).rejects.toThrow(/points to version 3, expected version 2/);
    expect(await run('promote', 'ctr', '3', '--alias', 'challenger', '--expect', 'none')).toBe('ctr@challenger: (unset) → 3\n');
    expect(await run('rollback', 'ctr')).toBe('ctr@champion rolled back: 3 → 2\n');
    expect((await json('show', 'ctr@champion')).version).toBe(2);
    const overview = await run('show', 'ctr');
    expect(overview).toMatch(/aliases\s+challenger=3 champion=2/);
    expect(overview).toMatch(/champion\s+rollback\s+3\s+2\s+rolled back with pctr models rollback/);
  });

  it('compares two versions: metric deltas and changed params', async () => {
    const d = await json('diff', 'ctr', '@champion', '3');
    expect(d).toMatchObject({ a: 1, b: 3, metrics: { auc: { a: 0.71, b: 0.73 } }, params: { alpha: { a: 0.1, b: 0.3, changed: true }, bits: { changed: false } } });
    expect((d.metrics as { auc: { delta: number } }).auc.delta).toBeCloseTo(0.02, 10);
    expect(await run('diff', 'ctr', '1', '3')).toMatch(/\n {2}auc\s+0\.71\s+0\.73\s+\+0\.02\n/);
  });

  it('verifies the artifact on request and refuses a corrupted one', async () => {
    const shown = await json('show', 'ctr:2', '--verify');
    expect(shown.artifactVerified).toBe(true);
    const digest = shown.digest as string;
    writeFileSync(join(env.PCTR_ARTIFACTS!, 'sha256', digest.slice(0, 2), digest), 'tampered');
    const err = await run('show', 'ctr:2', '--verify').catch((e: unknown) => e);
    expect(isPctrError(err, 'PCTR_ARTIFACT_CORRUPT') && err.message).toMatch(/model ctr version 2 is corrupt: expected sha256/);
  });

  it('runs from the pctr binary and exits non-zero with a clear message', () => {
    const { command, args } = pctrCommand(['models', 'rollback', 'ctr']);
    const r = spawnSync(command, args, { env: { ...process.env, ...env }, encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('pctr: cannot roll back alias @champion of model "ctr": no earlier version in its history (it points to version 1)\n');
    const bad = spawnSync(command, pctrCommand(['models', 'promote', 'ctr', 'two']).args, { env: { ...process.env, ...env }, encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe('pctr: version "two" is not a version number (1, 2, …)\n');
  });
});
