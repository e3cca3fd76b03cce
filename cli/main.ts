#!/usr/bin/env node
// The `hush` command line.
import { Command, CommanderError } from 'commander';
import { VERSION } from '../common/version.js';
import { agentCommands } from './commands/agent.js';
import { installCommands } from './commands/install.js';
import { managerCommands } from './commands/manager.js';
import { nodeCommands } from './commands/node.js';
import { secretCommands } from './commands/secret.js';
import { serviceCommands } from './commands/service.js';

const program = new Command('hush')
  .description('hush: secrets for clusters of Linux nodes, served live from memory at /run/secrets')
  .version(VERSION, '-v, --version')
  .option('-H, --host <socket>', 'manager control socket (default: $HUSH_HOST, or control.sock in $HUSH_STATE_DIR or /var/lib/hush/manager)')
  // Usage errors follow the same rule as every other error: one line, `Error: ...`.
  .configureOutput({ outputError: (text, write) => write(`Error: ${text.replace(/^error: /, '').split('\n')[0]} (see --help)\n`) })
  .exitOverride();

managerCommands(program);
secretCommands(program);
nodeCommands(program);
serviceCommands(program);
agentCommands(program);
installCommands(program);

program.parseAsync(process.argv).catch((e: unknown) => {
  if (e instanceof CommanderError) {
    process.exitCode = e.exitCode;
  } else {
    process.stderr.write(`Error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  }
});
