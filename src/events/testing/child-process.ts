/**
 * For the crash tests: run a fixture script in a child process (`node --import tsx`), collect its
 * stdout lines, and SIGKILL it a random 0-`jitterMs` after a given number of lines has arrived (so
 * the kill lands anywhere in the child's work, not just after a line), or let it run to its exit.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export function fixturePath(name: string): string {
  return fileURLToPath(new URL(`./${name}`, import.meta.url));
}

export interface ChildRun {
  /** Complete stdout lines received before the child ended. */
  readonly lines: string[];
  readonly killed: boolean;
  readonly code: number | null;
  readonly stderr: string;
}

/** Run `script args`; kill it with SIGKILL soon after `killAfterLines` lines (never when undefined). */
export function runChild(script: string, args: readonly string[], killAfterLines?: number, jitterMs = 8, timeoutMs = 60_000): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PCTR_LOG_LEVEL: 'error' } });
    const lines: string[] = [];
    let partial = '';
    let stderr = '';
    let killed = false;
    let killing = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} did not finish within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      lines.push(...parts);
      if (killAfterLines !== undefined && lines.length >= killAfterLines && !killing) {
        killing = true;
        setTimeout(() => {
          killed = true;
          child.kill('SIGKILL');
        }, Math.random() * jitterMs);
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ lines, killed, code, stderr });
    });
  });
}
