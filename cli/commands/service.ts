// `hush service ...`
import type { Command } from 'commander';
import type { Service__Output } from '../../proto/gen/hush/v1/Service.js';
import type { Task__Output } from '../../proto/gen/hush/v1/Task.js';
import type { Node__Output } from '../../proto/gen/hush/v1/Node.js';
import { parseConstraint } from '../../manager/orchestrator/constraints.js';
import { validateLabels } from '../../manager/secrets/validate.js';
import { formatMode, validateServiceMode, validateServiceName } from '../../manager/services/spec.js';
import { CliError, CliErrors, type Control } from '../client.js';
import { parseLabels } from '../input.js';
import { ago, iso, table } from '../output.js';
import { parseReplicas, parseSecretSpec, referenceToWire } from '../spec.js';
import { validateRef } from '../../manager/refs.js';
import { action, collect, controlFor, printJsonFormat, warnIfStale } from './common.js';

export function serviceJson(s: Service__Output) {
  return {
    id: s.id, name: s.name, mode: s.mode, ...(s.mode === 'replicated' ? { replicas: s.replicas } : {}),
    secrets: s.secrets.map((r) => ({
      secretId: r.secretId, secretName: r.secretName, version: r.version || null, target: r.target,
      uid: r.uid, gid: r.gid, mode: formatMode(r.mode ?? 0), // absent only from an older manager, which left out 0
    })),
    constraints: s.constraints, labels: s.labels, createdAt: iso(s.createdAtMs), updatedAt: iso(s.updatedAtMs),
  };
}

function taskJson(t: Task__Output, hostname: string) {
  return {
    id: t.id, name: t.name, serviceId: t.serviceId, serviceName: t.serviceName, slot: t.slot,
    nodeId: t.nodeId, node: hostname, desiredState: t.desiredState, state: t.state, message: t.message,
    stateSince: iso(t.stateSinceMs),
  };
}

const currentState = (t: Task__Output) => `${t.state} ${ago(t.stateSinceMs).replace(/^Less/, 'less')}`;

async function hostnames(control: Control): Promise<Map<string, string>> {
  const { nodes } = await control.call<object, { nodes: Node__Output[] }>('ListNodes', {});
  return new Map(nodes.map((n) => [n.id, n.hostname]));
}

/** Runs fn for each service ref (checked first), collecting one error line per failure. */
async function eachRef(refs: string[], fn: (ref: string) => Promise<void>): Promise<void> {
  const errors: string[] = [];
  for (const ref of refs) {
    try {
      await fn(validateRef(ref, 'service'));
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  if (errors.length) throw new CliErrors(errors);
}

interface CreateOpts { name?: string; replicas?: string; mode?: string; secret: string[]; constraint: string[]; label: string[] }
interface UpdateOpts { secretAdd: string[]; secretRm: string[]; replicas?: string; constraintAdd: string[]; constraintRm: string[] }

/** The subcommands of `hush service` (main.ts declares the group). */
export function serviceCommands(service: Command): void {
  service.command('create').description('create a service; prints its id')
    .option('--name <name>', 'service name (required)')
    .option('--replicas <n>', 'number of tasks (replicated mode; default 1, at most 10000)')
    .option('--mode <mode>', 'replicated (default) or global (one task on every eligible node)')
    .option('--secret <spec>', 'give the tasks a secret: NAME[@VERSION] or source=NAME[@VERSION],target=FILE,uid=N,gid=N,mode=0400 (repeatable)', collect, [])
    .option('--constraint <expr>', 'placement constraint, e.g. node.labels.zone==eu (repeatable)', collect, [])
    .option('-l, --label <key=value>', 'set a label (repeatable)', collect, [])
    .action(action(async (cmd, opts: CreateOpts) => {
      const name = opts.name;
      if (name === undefined) throw new CliError('--name is required');
      validateServiceName(name);
      const mode = validateServiceMode(opts.mode ?? 'replicated');
      if (mode === 'global' && opts.replicas !== undefined) throw new CliError('--replicas cannot be used with --mode global (a global service runs one task on every eligible node)');
      const replicas = opts.replicas === undefined ? 0 : parseReplicas(opts.replicas, 1);
      const secrets = opts.secret.map((s) => referenceToWire(parseSecretSpec(s)));
      for (const c of opts.constraint) parseConstraint(c);
      const labels = parseLabels(opts.label);
      validateLabels(labels);
      const created = await controlFor(cmd).call<object, Service__Output>('CreateService', {
        name, mode, replicas, secrets, constraints: opts.constraint, labels,
      });
      console.log(created.id);
    }));

  service.command('update').argument('<service>', 'name or id').description('change a service\'s secrets, replicas or constraints')
    .option('--secret-add <spec>', 'add a secret reference (SPEC as for create; repeatable)', collect, [])
    .option('--secret-rm <name>', 'remove the references to a secret (by secret name or target; repeatable)', collect, [])
    .option('--replicas <n>', 'number of tasks (replicated services; 0 to 10000)')
    .option('--constraint-add <expr>', 'add a placement constraint (repeatable)', collect, [])
    .option('--constraint-rm <expr>', 'remove a placement constraint (repeatable)', collect, [])
    .action(action(async (cmd, ref: string, opts: UpdateOpts) => {
      validateRef(ref, 'service');
      const secretAdd = opts.secretAdd.map((s) => referenceToWire(parseSecretSpec(s)));
      for (const s of opts.secretRm) validateRef(s, 'secret reference to remove');
      const replicas = opts.replicas === undefined ? undefined : parseReplicas(opts.replicas);
      for (const c of [...opts.constraintAdd, ...opts.constraintRm]) parseConstraint(c);
      const updated = await controlFor(cmd).call<object, Service__Output>('UpdateService', {
        ref, secretAdd, secretRm: opts.secretRm, setReplicas: replicas !== undefined, replicas: replicas ?? 0,
        constraintAdd: opts.constraintAdd, constraintRm: opts.constraintRm,
      });
      console.log(updated.id);
    }));

  service.command('ls').alias('list').description('list services')
    .option('-q, --quiet', 'only display ids')
    .option('--format <format>', 'json: one JSON object per line')
    .action(action(async (cmd, opts: { quiet?: boolean; format?: string }) => {
      const control = controlFor(cmd);
      const listed = await control.call<object, { services: Service__Output[]; warning?: string }>('ListServices', {});
      warnIfStale(listed);
      const { services } = listed;
      if (opts.quiet) return void services.forEach((s) => console.log(s.id));
      if (printJsonFormat(opts.format, services.map(serviceJson))) return;
      // One ListTasks per service keeps each answer small (at most 10,000 replicas), whatever the cluster's size.
      const rows: string[][] = [];
      for (const s of services) {
        let replicas = '?';
        try {
          const { tasks } = await control.call<object, { tasks: Task__Output[] }>('ListTasks', { service: s.id });
          const running = tasks.filter((t) => t.desiredState === 'running');
          replicas = `${running.filter((t) => t.state === 'ready').length}/${s.mode === 'global' ? running.length : s.replicas}`;
        } catch {
          // Removed since it was listed.
        }
        rows.push([s.id, s.name, s.mode, replicas, String(s.secrets.length)]);
      }
      console.log(table(['ID', 'NAME', 'MODE', 'REPLICAS', 'SECRETS'], rows));
    }));

  service.command('inspect').argument('<service...>', 'names or ids').description('show services as JSON')
    .action(action(async (cmd, refs: string[]) => {
      const control = controlFor(cmd);
      const found: unknown[] = [];
      try {
        await eachRef(refs, async (ref) => void found.push(serviceJson(await control.call<object, Service__Output>('GetService', { ref }))));
      } finally {
        console.log(JSON.stringify(found, null, 2));
      }
    }));

  service.command('ps').argument('<service...>', 'names or ids').description('list the tasks of services')
    .option('-q, --quiet', 'only display task ids')
    .option('--format <format>', 'json: one JSON object per line')
    .action(action(async (cmd, refs: string[], opts: { quiet?: boolean; format?: string }) => {
      if (opts.format !== undefined) printJsonFormat(opts.format, []); // refuses an unknown format before any call
      const control = controlFor(cmd);
      const tasks: Task__Output[] = [];
      let stale: { warning?: string } | undefined;
      let found = 0;
      const errors = await eachRef(refs, async (service) => {
        const res = await control.call<object, { tasks: Task__Output[]; warning?: string }>('ListTasks', { service });
        if (res.warning) stale = res;
        tasks.push(...res.tasks);
        found++;
      }).then(() => undefined, (e: unknown) => e);
      if (errors && !found) throw errors;
      if (stale) warnIfStale(stale);
      if (opts.quiet) {
        tasks.forEach((t) => console.log(t.id));
      } else {
        const hosts = tasks.some((t) => t.nodeId) ? await hostnames(control) : new Map<string, string>();
        const host = (t: Task__Output) => (t.nodeId ? hosts.get(t.nodeId) ?? t.nodeId : '');
        if (!printJsonFormat(opts.format, tasks.map((t) => taskJson(t, host(t))))) {
          console.log(table(['ID', 'NAME', 'NODE', 'DESIRED STATE', 'CURRENT STATE', 'MESSAGE'], tasks.map((t) =>
            [t.id, t.name, host(t), t.desiredState, currentState(t), t.message])));
        }
      }
      if (errors) throw errors;
    }));

  service.command('rm').alias('remove').argument('<service...>', 'names or ids')
    .description('remove services; their tasks go at once, and nodes drop their secrets')
    .action(action(async (cmd, refs: string[]) => {
      const control = controlFor(cmd);
      await eachRef(refs, async (ref) => {
        await control.call('RemoveService', { ref });
        console.log(ref);
      });
    }));
}
