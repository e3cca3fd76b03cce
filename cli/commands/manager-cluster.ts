// `hush manager join`, `hush manager ls`, `hush manager rm`: several managers on one etcd store.
import type { Command } from 'commander';
import { CliError } from '../client.js';
import { DEFAULT_LISTEN } from '../../common/defaults.js';
import { parseHostPort } from '../input.js';
import { table } from '../output.js';
import { action, controlFor, printJsonFormat } from './common.js';

interface ManagerInfo {
  id: string; addr: string; hostname: string; leader: boolean; reachable: boolean; version: string;
  joinedAtMs: number | string; self: boolean;
}

export function managerClusterCommands(manager: Command, stateDirOf: (o: { stateDir?: string }) => string): void {
  manager.command('join').description('add a manager to a cluster on etcd (run `hush manager run` afterwards)')
    .requiredOption('--manager <host:port>', 'an existing manager\'s TLS port')
    .requiredOption('--token <token>', 'the manager join token (`hush join-token manager`)')
    .option('--listen <host:port>', 'address of this manager\'s TLS port, as nodes and managers reach it', DEFAULT_LISTEN)
    .option('--state-dir <dir>', 'state directory of the new manager')
    .action(action(async (_cmd, opts: { manager: string; token: string; listen: string; stateDir?: string }) => {
      const managerAddr = parseHostPort(opts.manager, '--manager address');
      const listenAddr = parseHostPort(opts.listen, '--listen address');
      const { parseJoinToken } = await import('../../common/join-token.js');
      try {
        parseJoinToken(opts.token);
      } catch (e) {
        throw new CliError((e as Error).message);
      }
      const stateDir = stateDirOf(opts);
      const { joinManager } = await import('../../manager/cluster/join.js');
      const r = await joinManager({ managerAddr, token: opts.token, listenAddr, stateDir });
      console.log(`Manager ${r.managerId} joined cluster ${r.clusterId}; its state is in ${stateDir}.`);
      console.log(`Start it with: hush manager run --state-dir ${stateDir}`);
      if (r.autolock) console.log('Autolock is on: it starts locked; unlock it with `hush manager unlock` and the cluster\'s unlock key.');
    }));

  manager.command('ls').alias('list').description('list the managers of the cluster')
    .option('-q, --quiet', 'only display ids')
    .option('--format <format>', 'json: one JSON object per line')
    .action(action(async (cmd, opts: { quiet?: boolean; format?: string }) => {
      const { managers } = await controlFor(cmd).call<object, { managers: ManagerInfo[] }>('ListManagers', {});
      if (opts.quiet) return void managers.forEach((m) => console.log(m.id));
      const json = managers.map((m) => ({
        id: m.id, address: m.addr, hostname: m.hostname, leader: m.leader, reachable: m.reachable, self: m.self,
        version: m.version, joinedAt: new Date(Number(m.joinedAtMs)).toISOString(),
      }));
      if (printJsonFormat(opts.format, json)) return;
      console.log(table(['ID', 'ADDRESS', 'HOSTNAME', 'LEADER', 'REACHABLE'], managers.map((m) => [
        m.id + (m.self ? ' *' : ''), m.addr, m.hostname, m.leader ? 'yes' : '', m.reachable ? 'yes' : 'no',
      ])));
    }));

  manager.command('rm').alias('remove').argument('<id>', 'manager id (or unambiguous prefix)')
    .description('remove a stopped manager from the cluster; its certificate is refused from now on')
    .option('-f, --force', 'also a manager that is still running')
    .action(action(async (cmd, ref: string, opts: { force?: boolean }) => {
      const { id } = await controlFor(cmd).call<object, { id: string }>('RemoveManager', { ref, force: !!opts.force });
      console.log(id);
    }));
}
