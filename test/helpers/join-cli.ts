/**
 * `pctr join` alone, for the crash tests: the real command (src/cli/commands/join.command.ts) on a
 * program that registers nothing else, so the test depends on the join's code path only.
 * With PCTR_TEST_KILL_AFTER=N the process SIGKILLs itself (after a random few ms) once its
 * progress lines show N more impressions than the first one did (which already counts the
 * restored checkpoint): the kill point follows the join's own progress, however late the test
 * process would read the lines (a loaded machine let a fast join finish before a kill came).
 */
import { Command } from 'commander';
import { registerJoinCommand } from '../../src/cli/commands/join.command.ts';

const killAfter = process.env.PCTR_TEST_KILL_AFTER;
if (killAfter !== undefined) {
  let killAt = -1;
  let killing = false;
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    const line = String(chunk);
    if (!killing && line.startsWith('{"progress"')) {
      const { impressions } = (JSON.parse(line) as { progress: { impressions: number } }).progress;
      if (killAt < 0) killAt = impressions + Number(killAfter);
      if (impressions >= killAt) {
        killing = true;
        setTimeout(() => process.kill(process.pid, 'SIGKILL'), Math.floor(Math.random() * 20));
      }
    }
    return write(chunk, ...rest);
  }) as typeof process.stderr.write;
}

const program = new Command('pctr').option('-c, --config <file>', 'JSON config file');
registerJoinCommand(program);
await program.parseAsync(process.argv);
