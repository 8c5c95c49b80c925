import type { Command } from 'commander';
import { listSettings, loadConfig } from '../../core/index.ts';

export function registerConfigCommand(program: Command): void {
  program
    .command('config')
    .description('Show every setting with its environment variable, default and meaning; with --resolved, the validated values in effect')
    .option('--resolved', 'print the configuration in effect (defaults < file < environment) as JSON')
    .action((opts: { resolved?: boolean }, cmd: Command) => {
      if (opts.resolved) {
        const config = loadConfig({ file: cmd.optsWithGlobals().config as string | undefined });
        process.stdout.write(`${JSON.stringify(config, null, 2)}\n`);
        return;
      }
      for (const { path, setting } of listSettings()) {
        process.stdout.write(`${path.padEnd(34)} ${setting.env.padEnd(30)} default ${JSON.stringify(setting.default)}\n    ${setting.doc}\n`);
      }
    });
}
