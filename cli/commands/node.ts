// `hush node ...`
import type { Command } from 'commander';
import type { Node__Output } from '../../proto/gen/hush/v1/Node.js';
import { validateLabels } from '../../manager/secrets/validate.js';
import { validateAvailability } from '../../manager/nodes/admin.js';
import { CliError, CliErrors } from '../client.js';
import { parseLabels } from '../input.js';
import { iso, table } from '../output.js';
import { validateRef } from '../../manager/refs.js';
import { action, collect, controlFor, printJsonFormat, warnIfStale } from './common.js';

function nodeJson(n: Node__Output) {
  return {
    id: n.id, hostname: n.hostname, role: n.role, state: n.state, availability: n.availability, labels: n.labels,
    certSerial: n.certSerial, certNotAfter: iso(n.certNotAfterMs), createdAt: iso(n.createdAtMs),
  };
}

/** The subcommands of `hush node` (main.ts declares the group). */
export function nodeCommands(node: Command): void {
  node.command('ls').alias('list').description('list nodes')
    .option('-q, --quiet', 'only display ids')
    .option('--format <format>', 'json: one JSON object per line')
    .action(action(async (cmd, opts: { quiet?: boolean; format?: string }) => {
      const res = await controlFor(cmd).call<object, { nodes: Node__Output[]; warning?: string }>('ListNodes', {});
      warnIfStale(res);
      const { nodes } = res;
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
          found.push(nodeJson(await control.call<object, Node__Output>('GetNode', { ref: validateRef(ref, 'node') })));
        } catch (e) {
          errors.push((e as Error).message);
        }
      }
      console.log(JSON.stringify(found, null, 2));
      if (errors.length) throw new CliErrors(errors);
    }));

  node.command('update').argument('<node>', 'id, id prefix or hostname').description('change a node\'s availability or labels')
    .option('--availability <availability>', 'active, pause (no new tasks) or drain (no tasks at all)')
    .option('--label-add <key=value>', 'add or change a label (repeatable)', collect, [])
    .option('--label-rm <key>', 'remove a label (repeatable)', collect, [])
    .action(action(async (cmd, ref: string, opts: { availability?: string; labelAdd: string[]; labelRm: string[] }) => {
      validateRef(ref, 'node');
      if (opts.availability !== undefined) validateAvailability(opts.availability);
      const labelAdd = parseLabels(opts.labelAdd);
      validateLabels(labelAdd);
      for (const k of opts.labelRm) if (!k) throw new CliError('--label-rm needs a label key');
      const updated = await controlFor(cmd).call<object, Node__Output>('UpdateNode', {
        ref, availability: opts.availability ?? '', labelAdd, labelRm: opts.labelRm,
      });
      console.log(updated.id);
    }));

  node.command('rm').alias('remove').argument('<node...>', 'ids, id prefixes or hostnames')
    .description('remove nodes from the cluster and revoke their certificates')
    .option('-f, --force', 'also remove a node that is ready (its agent is connected)')
    .action(action(async (cmd, refs: string[], opts: { force?: boolean }) => {
      const control = controlFor(cmd);
      const errors: string[] = [];
      for (const ref of refs) {
        try {
          await control.call('RemoveNode', { ref: validateRef(ref, 'node'), force: !!opts.force });
          console.log(ref);
        } catch (e) {
          errors.push((e as Error).message);
        }
      }
      if (errors.length) throw new CliErrors(errors);
    }));
}
