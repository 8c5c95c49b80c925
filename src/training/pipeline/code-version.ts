import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/** `git describe --always --dirty` of the code running, else `pctr@<package version>`; computed once. */
export function codeVersion(): string {
  if (cached !== undefined) return cached;
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  try {
    cached = execFileSync('git', ['describe', '--always', '--dirty'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5_000 }).trim();
  } catch {
    cached = '';
  }
  if (!cached) {
    try {
      cached = `pctr@${(JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { version: string }).version}`;
    } catch {
      cached = 'pctr@unknown';
    }
  }
  return cached;
}
