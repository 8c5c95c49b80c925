/** Runs a Python peer (Debian's /usr/bin/python3 with sklearn) and parses the JSON object it prints last. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const PYTHON = '/usr/bin/python3';

export function peerScript(name: string): string {
  return fileURLToPath(new URL(`../peers/${name}`, import.meta.url));
}

export function runPeer<T>(script: string, args: readonly string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [peerScript(script), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', (e) => reject(new Error(`cannot run ${PYTHON}: ${e.message}`)));
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${script} ${args.join(' ')} failed (exit ${code}): ${err.trim()}`));
      const last = out.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(last) as T);
      } catch {
        reject(new Error(`${script} printed no JSON: ${out.slice(0, 200)}`));
      }
    });
  });
}
