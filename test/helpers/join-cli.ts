/**
 * `pctr join` alone, for the crash tests: the real command (src/cli/commands/join.command.ts) on a
 * program that registers nothing else, so the test depends on the join's code path only.
 */
import { Command } from 'commander';
import { registerJoinCommand } from '../../src/cli/commands/join.command.ts';

const program = new Command('pctr').option('-c, --config <file>', 'JSON config file');
registerJoinCommand(program);
await program.parseAsync(process.argv);
