// `hush node ...`
import type { Command } from 'commander';
import type { Node__Output } from '../../proto/gen/hush/v1/Node.js';
import { CliErrors } from '../client.js';
import { iso, table } from '../output.js';
import { action, controlFor, printJsonFormat } from './common.js';

function nodeJson(n: Node__Output) {
  return {
    id: n.id, hostname: n.hostname, role: n.role, state: n.state, availability: n.availability, labels: n.labels,
    certSerial: n.certSerial, certNotAfter: iso(n.certNotAfterMs), createdAt: iso(n.createdAtMs),
  };
}

export function nodeCommands(program: Command): void {
  const node = program.command('node').description('inspect the nodes of the cluster');

  node.command('ls').alias('list').description('list nodes')
    .option('-q, --quiet', 'only display ids')
    .option('--format <format>', 'json: one JSON object per line')
    .action(action(async (cmd, opts: { quiet?: boolean; format?: string }) => {
      const { nodes } = await controlFor(cmd).call<object, { nodes: Node__Output[] }>('ListNodes', {});
      if (opts.quiet) return void nodes.forEach((n) => console.log(n.id));
      if (printJsonFormat(opts.format, nodes.map(nodeJson))) return;
      console.log(table(['ID', 'HOSTNAME', 'ROLE', 'STATE', 'AVAILABILITY'], nodes.map((n) => [n.id, n.hostname, n.role, n.state, n.availability])));
    }));

  node.command('inspect').argument('<node...>', 'ids or hostnames').description('show nodes as JSON')
    .action(action(async (cmd, refs: string[]) => {
      const control = controlFor(cmd);
      const found = [];
      const errors: string[] = [];
      for (const ref of refs) {
        try {
          found.push(nodeJson(await control.call<object, Node__Output>('GetNode', { ref })));
        } catch (e) {
          errors.push((e as Error).message);
        }
      }
      console.log(JSON.stringify(found, null, 2));
      if (errors.length) throw new CliErrors(errors);
    }));
}
