import { fileURLToPath } from 'node:url';

/** Path of the CLI entry (TypeScript, run under tsx). */
export const CLI_ENTRY = fileURLToPath(new URL('../cli/main.ts', import.meta.url));

/** Command and arguments that run `pctr <args>` in a child process (for tests, benchmarks, `--workers`). */
export function pctrCommand(args: readonly string[]): { command: string; args: string[] } {
  return { command: process.execPath, args: ['--import', 'tsx', CLI_ENTRY, ...args] };
}
