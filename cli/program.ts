// The `hush` command line: commander's program, whose top-level commands each load their module
// only when they run (`hush --help` loads none, `hush secret ls` only commands/secret.ts); main.ts
// loads this for every command line but the version. Start-up is most of what a command costs
// (scripts call it in loops): bench/cli-start.ts.
import type * as Commander from 'commander';
import type { Command } from 'commander';
import { VERSION } from '../common/version.js';

// commander as the CommonJS module it is: through its ESM wrapper it costs the start-up ~3 ms more
// (the wrapper, cjs-module-lexer scanning the module, the ESM facade).
const commander = process.getBuiltinModule('node:module').createRequire(import.meta.url)('commander') as typeof Commander;

type Define = (cmd: Command) => void;

/**
 * The top-level commands, in the order `hush --help` lists them: how the listing describes each,
 * and the module that defines its subcommands (or, for join-token, its action).
 */
const COMMANDS: Array<{ name: string; declare: (cmd: Command) => Command; define: () => Promise<Define> }> = [
  {
    name: 'manager', declare: (c) => c.description('run and administer a manager'),
    define: async () => (await import('./commands/manager.js')).managerCommands,
  },
  {
    name: 'join-token',
    declare: (c) => c.argument('<role>', 'worker or manager').description('show (or rotate) a join token')
      .option('--rotate', 'replace the token; the old one stops working (joined nodes are not affected)')
      .option('-q, --quiet', 'only display the token'),
    define: async () => (await import('./commands/manager.js')).joinTokenAction,
  },
  {
    name: 'secret', declare: (c) => c.description('manage secrets (values are never shown back)'),
    define: async () => (await import('./commands/secret.js')).secretCommands,
  },
  {
    name: 'node', declare: (c) => c.description('inspect and administer the nodes of the cluster'),
    define: async () => (await import('./commands/node.js')).nodeCommands,
  },
  {
    name: 'service', declare: (c) => c.description('manage services: which secrets their tasks get, and where they run'),
    define: async () => (await import('./commands/service.js')).serviceCommands,
  },
  {
    name: 'agent', declare: (c) => c.description('run the node agent, or ask it how it is'),
    define: async () => (await import('./commands/agent.js')).agentCommands,
  },
  {
    name: 'install', declare: (c) => c.description('install hush into the system (starts nothing)'),
    define: async () => (await import('./commands/install.js')).installCommands,
  },
];

/**
 * `hush help COMMAND` prints COMMAND's help without running the preSubcommand hook, so COMMAND's
 * module must be loaded first. The scan finds the line's first two operands as commander does:
 * after the program's options (-H/--host takes a value), or after `--`.
 */
function helpTarget(args: string[]): string | undefined {
  const operands: string[] = [];
  for (let i = 0; i < args.length && operands.length < 2; i++) {
    const a = args[i];
    if (a === '--') operands.push(...args.slice(i + 1));
    else if (a === '-H' || a === '--host') i++;
    else if (!a.startsWith('-')) operands.push(a);
  }
  return operands[0] === 'help' ? operands[1] : undefined;
}

/** Parses and runs a command line (process.argv); failures set process.exitCode. */
export async function run(argv: string[]): Promise<void> {
  const program = new commander.Command('hush')
    .description('hush: secrets for clusters of Linux nodes, served live from memory at /run/secrets')
    .version(VERSION, '-v, --version')
    .option('-H, --host <socket>', 'manager control socket (default: $HUSH_HOST, or control.sock in $HUSH_STATE_DIR or /var/lib/hush/manager)')
    // Usage errors follow the same rule as every other error: one line, `Error: ...`.
    .configureOutput({ outputError: (text, write) => write(`Error: ${text.replace(/^error: /, '').split('\n')[0]} (see --help)\n`) })
    .exitOverride();

  const defines = new Map<Command, () => Promise<Define>>();
  for (const c of COMMANDS) defines.set(c.declare(program.command(c.name)), c.define);
  const define = async (sub: Command | undefined) => {
    const load = sub && defines.get(sub);
    if (!load) return;
    defines.delete(sub);
    (await load())(sub);
  };
  // Commander runs this before it parses the rest of the line with the command.
  program.hook('preSubcommand', (_program, sub) => define(sub));

  try {
    const help = helpTarget(argv.slice(2));
    if (help !== undefined) await define(program.commands.find((c) => c.name() === help || c.aliases().includes(help)));
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof commander.CommanderError) {
      process.exitCode = e.exitCode;
    } else {
      process.stderr.write(`Error: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 1;
    }
  }
}
