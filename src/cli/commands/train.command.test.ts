import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pctrCommand } from '../../core/index.ts';
import { tempDir } from '../../../test/helpers/services.ts';
import { seededRandom } from '../../../test/helpers/synthetic-ctr.ts';

function pctr(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { command, args: full } = pctrCommand(args);
  return new Promise((resolve, reject) => {
    const child = spawn(command, full, { env: { ...process.env, PCTR_LOG_LEVEL: 'warn' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Criteo-format rows whose clicks depend on C1 and I1, so a model has something to learn. */
function criteoText(rows: number, seed: number, opts: { label?: 0 | 1 } = {}): string {
  const rand = seededRandom(seed);
  const lines: string[] = [];
  for (let r = 0; r < rows; r++) {
    const c1 = Math.floor(rand() * 8);
    const i1 = Math.floor(rand() * 20);
    const p = 1 / (1 + Math.exp(-(-1.2 + (c1 - 3.5) * 0.5 + (i1 > 10 ? 0.8 : -0.3))));
    const label = opts.label ?? (rand() < p ? 1 : 0);
    const ints = [String(i1), ...Array.from({ length: 12 }, (_, k) => (k % 3 === 0 ? '' : String(Math.floor(rand() * 50))))];
    const cats = [`c1v${c1}`, ...Array.from({ length: 25 }, (_, k) => `f${k}v${Math.floor(rand() * 30)}`)];
    lines.push([label, ...ints, ...cats].join('\t'));
  }
  return `${lines.join('\n')}\n`;
}

describe('pctr train / pctr eval', () => {
  const tmp = tempDir('train-cli');
  const trainFile = join(tmp.dir, 'train.tsv.gz');
  const testFile = join(tmp.dir, 'test.tsv');
  const out = join(tmp.dir, 'model');

  beforeAll(() => {
    const good = criteoText(6000, 1).split('\n');
    // Three malformed rows among the training rows.
    good.splice(10, 0, 'not a criteo row');
    good.splice(500, 0, `1\t${'x\t'.repeat(38)}x`);
    good.splice(1000, 0, `0\t\t\t`);
    writeFileSync(trainFile, gzipSync(good.join('\n')));
    writeFileSync(testFile, criteoText(2000, 2));
  });
  afterAll(() => tmp.remove());

  it('trains on the good rows, reports the malformed ones, calibrates on the holdout and writes the artifact and report', async () => {
    const r = await pctr(['train', '--dataset', 'criteo', '--input', trainFile, '--model', 'ftrl', '--param', 'alpha=0.1', '--param', 'l1=0.1', '--calibration', 'platt', '--holdout', '0.2', '--out', out, '--json']);
    expect(r.stderr).toContain(`skipped 3 malformed rows of ${trainFile} (first at line 11: label must be 0 or 1, found "not a criteo row")`);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.data).toMatchObject({ malformed: 3, rows: Math.floor(6003 * 0.8) - 3 });
    expect(report.fit.examples).toBe(report.data.rows);
    expect(report.params).toMatchObject({ alpha: 0.1, l1: 0.1, bits: 20 });
    expect(report.calibration.method).toBe('platt');
    expect(report.holdout.rows).toBe(6003 - Math.floor(6003 * 0.8));
    expect(report.holdout.raw.auc).toBeGreaterThan(0.65);
    expect(existsSync(join(out, 'model.pctr'))).toBe(true);
    expect(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'))).toEqual(report);
  });

  it('evaluates the saved model on another file as one JSON object', async () => {
    const r = await pctr(['eval', '--model', out, '--dataset', 'criteo', '--input', testFile, '--json']);
    expect(r.code).toBe(0);
    const m = JSON.parse(r.stdout);
    expect(m).toMatchObject({ n: 2000, malformed: 0, model: 'ftrl' });
    for (const key of ['auc', 'logloss', 'ne', 'calibration']) expect(typeof m[key]).toBe('number');
    expect(m.auc).toBeGreaterThan(0.65);
    expect(m.ne).toBeLessThan(1);
    expect(Math.abs(m.calibration - 1)).toBeLessThan(0.15);
    expect(m.reliability.reduce((s: number, b: { count: number }) => s + b.count, 0)).toBe(2000);
  });

  it('fails clearly on single-class data, a corrupted artifact and a model of another data set', async () => {
    const oneClass = join(tmp.dir, 'one-class.tsv');
    writeFileSync(oneClass, criteoText(300, 3, { label: 0 }));
    const bytes = readFileSync(join(out, 'model.pctr'));
    bytes[bytes.length - 5] ^= 0xff;
    const broken = join(tmp.dir, 'broken.pctr');
    writeFileSync(broken, bytes);
    const [single, corrupt, other] = await Promise.all([
      pctr(['train', '--dataset', 'criteo', '--input', oneClass, '--out', join(tmp.dir, 'none')]),
      pctr(['eval', '--model', broken, '--dataset', 'criteo', '--input', testFile]),
      pctr(['eval', '--model', out, '--dataset', 'avazu', '--input', testFile]),
    ]);
    expect(single.code).toBe(1);
    expect(single.stderr).toContain('pctr: training data has a single class: all 300 labels are 0');
    expect(corrupt.code).toBe(1);
    expect(corrupt.stderr).toContain(`pctr: ${broken}: model artifact is corrupt: checksum mismatch`);
    expect(other.code).toBe(2);
    expect(other.stderr).toContain('that avazu data lacks');
  });

  it('rejects unknown parameters by name and explains its options', async () => {
    const [bad, help] = await Promise.all([
      pctr(['train', '--dataset', 'criteo', '--input', testFile, '--param', 'alhpa=1', '--out', join(tmp.dir, 'x')]),
      pctr(['train', '--help']),
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('invalid ftrl parameters: unknown parameter alhpa');
    for (const opt of ['--dataset', '--input', '--model', '--param', '--out', '--holdout', '--calibration', '--downsample', '--json']) expect(help.stdout).toContain(opt);
    expect(help.stdout).toContain('ftrl parameters (--param k=v): bits, numeric');
  });
});
