/**
 * The `pctr` command. Each subcommand lives in its own file under commands/ and registers itself
 * on the program; this file only assembles them and turns errors into a clear message and exit code.
 */
import { Command } from 'commander';
import { isPctrError } from '../core/index.ts';
import { registerAggregateCommand } from './commands/aggregate.command.ts';
import { registerBackfillCommand } from './commands/backfill.command.ts';
import { registerConfigCommand } from './commands/config.command.ts';
import { registerEvalCommand } from './commands/eval.command.ts';
import { registerGatewayCommand } from './commands/gateway.command.ts';
import { registerJoinCommand } from './commands/join.command.ts';
import { registerModelsCommand } from './commands/models.command.ts';
import { registerReplayCommand } from './commands/replay.command.ts';
import { registerSimCommand } from './commands/sim.command.ts';
import { registerStartCommand } from './commands/start.command.ts';
import { registerTrainCommand } from './commands/train.command.ts';
import { registerWorkerCommand } from './commands/worker.command.ts';

export function buildProgram(): Command {
  const program = new Command('pctr')
    .description('Real-time ad click-through-rate prediction: serving, feature store, streaming join, training, registry.')
    .option('-c, --config <file>', 'JSON config file (see `pctr config`); environment variables override it')
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ sortSubcommands: true });
  registerAggregateCommand(program);
  registerBackfillCommand(program);
  registerConfigCommand(program);
  registerEvalCommand(program);
  registerGatewayCommand(program);
  registerJoinCommand(program);
  registerModelsCommand(program);
  registerReplayCommand(program);
  registerSimCommand(program);
  registerStartCommand(program);
  registerTrainCommand(program);
  registerWorkerCommand(program);
  return program;
}

async function main(): Promise<void> {
  // `pctr … | head` closes stdout early; that is not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (err) {
    if (isPctrError(err)) {
      process.stderr.write(`pctr: ${err.message}\n`);
      process.exitCode = err.code === 'PCTR_CONFIG_INVALID' || err.code === 'PCTR_VALIDATION' ? 2 : 1;
    } else {
      process.stderr.write(`pctr: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exitCode = 1;
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('/bin/pctr.js')) {
  await main();
}
