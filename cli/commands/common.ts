// What every command shares: the error convention, the manager connection, --format.
import type { Command } from 'commander';
import { CliError, Control, controlTarget } from '../client.js';

const clients: Control[] = [];

/** The Control client for this invocation (--host is a global option). */
export function controlFor(cmd: Command): Control {
  const c = new Control(controlTarget(cmd.optsWithGlobals().host as string | undefined));
  clients.push(c);
  return c;
}

/** Runs an action; any failure is printed as `Error: <one line>` and exits non-zero. */
export function action<A extends unknown[]>(fn: (cmd: Command, ...args: A) => Promise<void> | void) {
  return async function (this: Command, ...args: unknown[]) {
    // commander passes (...arguments, options, command)
    const cmd = args[args.length - 1] as Command;
    try {
      await fn(cmd, ...(args.slice(0, -1) as A));
    } catch (e) {
      const lines = e instanceof CliError ? e.message.split('\n') : [e instanceof Error ? e.message.split('\n')[0] : String(e)];
      for (const l of lines) process.stderr.write(`Error: ${l}\n`);
      process.exitCode = 1;
    } finally {
      for (const c of clients.splice(0)) c.close();
    }
  };
}

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Prints one JSON object per line for --format json; false if no format was asked. */
export function printJsonFormat(format: string | undefined, items: unknown[]): boolean {
  if (format === undefined) return false;
  if (format !== 'json') throw new CliError(`unsupported format ${JSON.stringify(format)}: only json`);
  for (const i of items) console.log(JSON.stringify(i));
  return true;
}

/** A listing the manager answered from a view that may be stale (etcd unreachable) says so on stderr. */
export function warnIfStale(res: { warning?: string }): void {
  if (res.warning) process.stderr.write(`Warning: ${res.warning}\n`);
}
